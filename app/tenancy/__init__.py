"""The association, its member communes and their offices."""
