"""Adapters: the only modules that import experimental plumego APIs, each behind an app-local Protocol."""
