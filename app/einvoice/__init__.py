"""Electronic invoices (E-Rechnung): businesses upload XRechnung (UBL or CII) or ZUGFeRD/Factur-X
invoices for a commune; the portal validates them as KoSIT's validator does and routes valid ones
to the finance office's inbox like any submission."""
