"""plumego.x.ai.tool (beta): Tool definitions, validation and invocation.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/ai family's rules in specs/dependency-rules.yaml.
"""
