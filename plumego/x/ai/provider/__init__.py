"""plumego.x.ai.provider (beta): Provider contract (complete, stream, list models, count tokens) and
OpenAI/Anthropic implementations.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/ai family's rules in specs/dependency-rules.yaml.
"""
