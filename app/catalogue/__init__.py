"""The association's service catalogue and each commune's cafeteria choice of it."""
