"""plumego.x.openapi (experimental): the OpenAPI 3.1 document of an app, from its routes and handler type hints.

::

    register_openapi(app.router, title="Shop", version="1.0.0")   # GET /openapi.json, /openapi.yaml, /docs
    document = generate(app, hints={"items.create": Hint(responses={201: envelope(Item)})})

Request and response schemas come from handler annotations (dataclasses, TypedDicts, pydantic v2 models, msgspec
Structs, containers, literals, enums), path parameters from the route pattern, and every operation documents the
canonical error envelope; hints override by route name or ``"METHOD /path"``. ``plumego openapi module:app
[--format yaml]`` prints it. Go's x/openapi describes routes only from hand-written hints (no schema inference,
no validation); this one infers, and its output is checked with openapi-spec-validator and schemathesis.
Imports the standard library, plumego.contract and plumego.router (PyYAML for YAML); never another x/* family.
"""

from ._generate import ERROR_SCHEMA, Hint, generate
from ._schema import RawSchema, SchemaRegistry, envelope, paginated
from ._serve import register_openapi, to_json, to_yaml

__all__ = [
    "ERROR_SCHEMA",
    "Hint",
    "RawSchema",
    "SchemaRegistry",
    "envelope",
    "generate",
    "paginated",
    "register_openapi",
    "to_json",
    "to_yaml",
]
