"""Chat service: a plumego app whose stable code reaches experimental APIs only through app.adapters."""
