"""with_rest: a users resource on x/rest (SQLite by default, PostgreSQL with ``--backend``) and a validated items
endpoint, described by its own OpenAPI document.

``python -m examples.with_rest [--host H] [--port P] [--data-dir D] [--backend postgresql://...?schema=S]``.
``/api/users``: the 12 resource routes (list with paging, sort, search and filters; CRUD; soft delete; batch).
``POST /api/items``: a typed body checked field by field (422 with one ``{path, reason}`` per field).
``/openapi.json``, ``/openapi.yaml`` and ``/docs`` describe it all. Go's with-rest keeps users in memory and
adapts go-playground/validator by hand. Experimental APIs (x/validate, x/openapi) are used only in ``adapters/``.
"""
