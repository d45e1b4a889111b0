"""plumego.x.rest (beta): resource controllers, the QueryBuilder, repositories on SQLite and PostgreSQL, versioning.

::

    users = TableSpec("users", (Column("name", required=True, max_length=80),
                                Column("email", required=True, unique=True), Column("age", "integer")),
                      soft_delete=True, searchable=("name", "email"))
    repository = await open_repository("sqlite:///app.db", users)          # or postgresql://host/db?schema=app
    controller = DBResourceController(ResourceSpec("users", sorts=("name", "age"), filters=("email",)), repository)
    register_resource_routes(app.router, "/api/users", controller)          # the 12 Go routes, named users.*

Every value reaches SQL as a bound parameter and every name (table, column, sort key, filter) is an allow-listed
identifier, so query strings cannot inject SQL. Both repositories pass one conformance suite; their documented
differences are :class:`RepositoryCapabilities` flags. Go's DBResourceController splices sort keys into SQL and
its repositories are left to the app; here the SQL side is complete and shared.
Imports the standard library and plumego.contract/log/router/store (psycopg only for PostgreSQL); never
plumego.core.
"""

from ._controller import BaseResourceController, ResourceController, RouteOptions, register_resource_routes
from ._open import open_repository
from ._query import RESERVED_PARAMETERS, Query, QueryBuilder, SortField, invalid_query
from ._repository import (
    Column,
    ColumnType,
    DuplicateError,
    Record,
    Repository,
    RepositoryCapabilities,
    RepositoryError,
    TableSpec,
)
from ._resource import (
    BatchResult,
    DBResourceController,
    HookRejected,
    RecordValidator,
    ResourceHooks,
    ResourceSpec,
    validate_record,
)
from ._sqlite import SQLiteRepository
from ._versioning import SCOPE_API_VERSION, VersionConfig, api_version, versioning

__all__ = [
    "BaseResourceController",
    "BatchResult",
    "Column",
    "ColumnType",
    "DBResourceController",
    "DuplicateError",
    "HookRejected",
    "Query",
    "QueryBuilder",
    "RESERVED_PARAMETERS",
    "Record",
    "RecordValidator",
    "Repository",
    "RepositoryCapabilities",
    "RepositoryError",
    "ResourceController",
    "ResourceHooks",
    "ResourceSpec",
    "RouteOptions",
    "SCOPE_API_VERSION",
    "SQLiteRepository",
    "SortField",
    "TableSpec",
    "VersionConfig",
    "api_version",
    "invalid_query",
    "open_repository",
    "register_resource_routes",
    "validate_record",
    "versioning",
]
