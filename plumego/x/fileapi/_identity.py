"""Who is asking: the tenant id and user id of a request, read from the ASGI scope only (never body or path).

Owns the scope keys ``plumego.tenant_id`` and ``plumego.user_id`` and their readers and writers. x/tenant's
resolve middleware (or any middleware of the app's own) stores the tenant under ``plumego.tenant_id``; without
one, the authenticated principal's ``tenant_id`` (``plumego.principal``, set by the stable auth middleware) is
used, read by attribute so this module needs neither x/tenant nor plumego.middleware. Imports the standard
library and plumego.contract.
"""

from __future__ import annotations

from typing import Final

from plumego.contract import Scope

__all__ = ["SCOPE_TENANT_ID", "SCOPE_USER_ID", "tenant_id_from_scope", "user_id_from_scope", "with_tenant_id",
           "with_user_id"]

SCOPE_TENANT_ID: Final = "plumego.tenant_id"
"""Scope key holding the resolved tenant id (``str``)."""
SCOPE_USER_ID: Final = "plumego.user_id"
"""Scope key holding the acting user's id (``str``; Go's ``WithUserID``)."""
_SCOPE_PRINCIPAL: Final = "plumego.principal"


def with_tenant_id(scope: Scope, tenant_id: str) -> None:
    scope[SCOPE_TENANT_ID] = tenant_id


def with_user_id(scope: Scope, user_id: str) -> None:
    scope[SCOPE_USER_ID] = user_id


def tenant_id_from_scope(scope: Scope) -> str:
    """The tenant id the middleware resolved, else the principal's, else ``""`` (unvalidated: callers check)."""
    tenant = scope.get(SCOPE_TENANT_ID)
    if isinstance(tenant, str) and tenant:
        return tenant
    principal_tenant = getattr(scope.get(_SCOPE_PRINCIPAL), "tenant_id", "")
    return principal_tenant if isinstance(principal_tenant, str) else ""


def user_id_from_scope(scope: Scope) -> str:
    """The user id stored with :func:`with_user_id`, else the principal's subject, else ``""``."""
    user = scope.get(SCOPE_USER_ID)
    if isinstance(user, str) and user:
        return user
    subject = getattr(scope.get(_SCOPE_PRINCIPAL), "subject", "")
    return subject if isinstance(subject, str) else ""
