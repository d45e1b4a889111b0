"""with_websocket: echo and rooms at /ws over plumego.x.websocket, in one process or across many.

``python -m examples.with_websocket [--host H] [--port P] [--backplane redis://...|nats://...]`` with ``WS_SECRET``
(at least 32 bytes) set, as Go's with-websocket requires. ``ws://H:P/ws?room=NAME``: ``{"type":"ping"}`` answers
``{"type":"pong"}``, anything else goes to every member of the room (the sender included); messages up to 1 MiB,
UTF-8, no control characters. Anonymous clients are allowed; a bearer JWT signed with WS_SECRET is checked when
sent. With ``WS_BROADCAST_SECRET`` set, ``POST /_admin/broadcast?room=NAME`` (``Authorization: Bearer <it>``)
broadcasts. With ``--backplane`` every instance's room members receive every broadcast.
"""
