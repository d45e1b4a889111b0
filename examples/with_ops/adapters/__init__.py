"""Adapters: the only modules of this app that import plumego's experimental x/* APIs."""
