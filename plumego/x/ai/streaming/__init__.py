"""plumego.x.ai.streaming (beta): Streaming completions as server-sent events.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/ai family's rules in specs/dependency-rules.yaml.
"""
