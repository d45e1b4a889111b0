"""App-local adapters: the only modules that import experimental plumego APIs."""
