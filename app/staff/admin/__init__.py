"""Administration in the browser: a commune's profile, offices, staff and services; the communes."""
