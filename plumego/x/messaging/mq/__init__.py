"""plumego.x.messaging.mq (experimental): Durable task queue with acknowledgements, retries and dead letters; Redis
Streams and NATS JetStream adapters.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/messaging family's rules in specs/dependency-rules.yaml.
"""
