"""plumego.x.fileapi (experimental): HTTP file upload and download API over the file store contracts.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
