"""The association's own pages: the portal home, portal-wide search, operations."""
