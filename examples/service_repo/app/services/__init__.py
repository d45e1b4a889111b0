"""Domain services: the stable core of the app."""
