"""plumego.x.ai.session (beta): Conversation session state and history windows.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/ai family's rules in specs/dependency-rules.yaml.
"""
