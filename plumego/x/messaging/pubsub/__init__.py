"""plumego.x.messaging.pubsub (experimental): Publish/subscribe with topic patterns; in-process broker and real
broker adapters.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/messaging family's rules in specs/dependency-rules.yaml.
"""
