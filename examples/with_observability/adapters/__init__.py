"""Adapters: the only modules of this app that import plumego's x/* APIs."""
