"""plumego.x.data.file (beta): File storage engines: local and S3-compatible, with tenant scoping and content-hash
dedupe.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/data family's rules in specs/dependency-rules.yaml.
"""
