"""Schemathesis over an app's own OpenAPI document: every operation, valid and invalid inputs, a fixed small
number of examples (derandomized, so a run is repeatable and bounded in time). The checks are "no server error"
and "every answer matches the document" (status, content type, schema). Imported by name (pytest puts this folder
on sys.path)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def fuzz(schema: Any, *, max_examples: int = 8, **call: Any) -> int:
    """Run every operation of ``schema`` (``call`` goes to ``case.call_and_validate``: ``base_url=`` or
    ``app=``); returns how many requests were made. A failing check raises with the case that broke it."""
    made = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case: Any) -> None:
                nonlocal made
                made += 1
                case.call_and_validate(checks=CHECKS, **call)

            try:
                run()
            except Unsatisfiable:
                # Negative mode on an operation with no inputs: there is nothing to make invalid.
                assert mode is GenerationMode.NEGATIVE, operation.label
    return made
