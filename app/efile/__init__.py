"""E-file export (xdomea 3.0.0 hand-over packages) and file inspection (Akteneinsicht)."""
