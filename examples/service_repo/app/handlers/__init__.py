"""HTTP handlers: parse requests, call services, shape responses."""
