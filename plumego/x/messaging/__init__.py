"""plumego.x.messaging (beta): Messaging family: the app-facing notification service and its queue, pub/sub,
scheduler and webhook subpackages.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
