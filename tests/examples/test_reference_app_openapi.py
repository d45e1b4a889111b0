"""The reference app described by x/openapi (from the outside: the reference app itself stays stable-only) and
fuzzed with schemathesis in process: valid and invalid inputs for every operation, no server error, every answer
as documented."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from openapi_spec_validator import validate
from spec_fuzz import fuzz

from plumego.log import DiscardLogger
from plumego.x.openapi import Hint
from plumego.x.openapi import generate
from reference_app.app import build_app
from reference_app.config import Config

ITEM_BODY = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 200},
                                              "description": {"type": "string", "maxLength": 2000}}}
HINTS = {
    "items.list": Hint(query={"limit": int, "offset": int}),
    "items.create": Hint(request={**ITEM_BODY, "required": ["name"]}, request_required=False),
    "items.replace": Hint(request={**ITEM_BODY, "required": ["name"]}, request_required=False),
    "items.patch": Hint(request=ITEM_BODY, request_required=False),
    "greet": Hint(query={"name": str}),
}


def test_reference_app_spec_and_schemathesis(tmp_path: Path) -> None:
    app = build_app(Config(data_dir=tmp_path, rate_limit_per_second=1e6, rate_limit_burst=1_000_000),
                    DiscardLogger())
    document = generate(app, title="plumego-reference", version="dev", hints=HINTS)
    validate(document)
    assert {"/api/v1/items", "/api/v1/items/{id}", "/healthz", "/readyz"} <= set(document["paths"])
    made = fuzz(schemathesis.openapi.from_dict(document), app=app, base_url="http://testserver", max_examples=6)
    assert made >= 40
