"""plumego.router: Segment-trie HTTP router: params, wildcards, groups, named routes, reverse URLs, freeze, and canonical 404/405 answers.

Stable root (ga). Imports only the standard library and plumego.contract;
never plumego.x, the reference app or tooling.
"""
