"""plumego.metrics: Metrics contracts: counter, gauge and histogram, an in-process collector and the HTTP observer used by httpmetrics.

Stable root (ga). Imports only the standard library and plumego.log;
never plumego.x, the reference app or tooling.
"""
