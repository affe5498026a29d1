"""A commune's public information: page tree, news, events, documents; workflow; search."""
