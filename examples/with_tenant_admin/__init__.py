"""examples.with_tenant_admin: the tenant admin plane (tenants, per-minute quotas, usage) behind X-Admin-Token."""
