"""examples.with_tenant: GET /api/models behind plumego.x.tenant's resolve -> policy -> quota -> ratelimit chain."""
