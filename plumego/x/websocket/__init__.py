"""plumego.x.websocket (beta): WebSocket hubs, rooms and authenticated connections over the ASGI websocket scope.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
