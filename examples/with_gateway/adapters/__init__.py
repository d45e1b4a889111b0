"""App-local adapters: the only modules that import non-stable plumego APIs."""
