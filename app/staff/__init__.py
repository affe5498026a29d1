"""The staff workspace: accounts, login, two-factor, roles and permissions, audit log."""
