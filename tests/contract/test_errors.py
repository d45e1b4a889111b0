from __future__ import annotations

import pytest

from plumego.contract import (
    APIError,
    ErrorBuilder,
    ErrorCategory,
    ErrorCode,
    ErrorType,
    as_api_error,
    status_text,
)

# The Go table, verbatim: type -> (code, status, category).
GO_TABLE = {
    "validation_failure": ("VALIDATION_ERROR", 400, "validation_error"),
    "bad_request": ("BAD_REQUEST", 400, "client_error"),
    "invalid_request": ("INVALID_REQUEST", 422, "client_error"),
    "required_field_missing": ("REQUIRED_FIELD_MISSING", 400, "validation_error"),
    "invalid_format": ("INVALID_FORMAT", 400, "validation_error"),
    "value_out_of_range": ("VALUE_OUT_OF_RANGE", 400, "validation_error"),
    "duplicate_value": ("DUPLICATE_VALUE", 400, "validation_error"),
    "unauthorized_request": ("UNAUTHORIZED", 401, "auth_error"),
    "forbidden_request": ("FORBIDDEN", 403, "auth_error"),
    "invalid_token": ("INVALID_TOKEN", 401, "auth_error"),
    "expired_token": ("EXPIRED_TOKEN", 401, "auth_error"),
    "resource_not_found": ("RESOURCE_NOT_FOUND", 404, "client_error"),
    "resource_conflict": ("RESOURCE_CONFLICT", 409, "client_error"),
    "resource_already_exists": ("RESOURCE_ALREADY_EXISTS", 409, "client_error"),
    "resource_gone": ("RESOURCE_GONE", 410, "client_error"),
    "not_acceptable": ("NOT_ACCEPTABLE", 406, "client_error"),
    "payload_too_large": ("REQUEST_BODY_TOO_LARGE", 413, "client_error"),
    "internal_error": ("INTERNAL_ERROR", 500, "server_error"),
    "service_unavailable": ("SERVICE_UNAVAILABLE", 503, "server_error"),
    "timeout_failure": ("TIMEOUT", 408, "timeout_error"),
    "rate_limited": ("RATE_LIMITED", 429, "rate_limit_error"),
    "maintenance_mode": ("MAINTENANCE_MODE", 503, "server_error"),
    "method_not_allowed": ("METHOD_NOT_ALLOWED", 405, "client_error"),
    "not_implemented": ("NOT_IMPLEMENTED", 501, "server_error"),
    "bad_gateway": ("BAD_GATEWAY", 502, "server_error"),
    "gateway_timeout": ("GATEWAY_TIMEOUT", 504, "timeout_error"),
}


def test_type_table_matches_go_exactly() -> None:
    assert {t.value for t in ErrorType} == set(GO_TABLE)
    for t in ErrorType:
        code, status, category = GO_TABLE[t.value]
        assert (t.meta.code, t.meta.status, t.meta.category.value) == (code, status, category)
        err = APIError(t)
        assert (err.code, err.status, err.category, err.type) == (code, status, category, t.value)


def test_categories() -> None:
    assert [c.value for c in ErrorCategory] == [
        "client_error", "validation_error", "auth_error", "rate_limit_error", "timeout_error", "server_error",
    ]


def test_typed_error_code_override_keeps_status_and_category() -> None:
    err = APIError(ErrorType.NOT_FOUND, "item not found", code="item.not_found")
    assert (err.status, err.code, err.category) == (404, "item.not_found", "client_error")
    assert err.message == "item not found"


def test_typed_error_ignores_status_and_category_arguments() -> None:
    err = APIError(ErrorType.NOT_FOUND, status=500, category="server_error")
    assert (err.status, err.category) == (404, "client_error")


def test_default_message_is_status_text() -> None:
    assert APIError(ErrorType.NOT_FOUND).message == "Not Found"
    assert APIError().message == "Internal Server Error"


def test_unknown_type_string_is_internal() -> None:
    err = APIError("weird_type")
    assert (err.status, err.code, err.category, err.type) == (500, "INTERNAL_ERROR", "server_error", "weird_type")


def test_type_given_as_known_string() -> None:
    assert APIError("rate_limited").status == 429


@pytest.mark.parametrize(
    ("status", "code", "category"),
    [
        (0, "INTERNAL_ERROR", "server_error"),
        (400, "BAD_REQUEST", "client_error"),
        (401, "UNAUTHORIZED", "auth_error"),
        (403, "FORBIDDEN", "auth_error"),
        (404, "RESOURCE_NOT_FOUND", "client_error"),
        (408, "TIMEOUT", "timeout_error"),
        (418, "INVALID_REQUEST", "client_error"),
        (429, "RATE_LIMITED", "rate_limit_error"),
        (502, "BAD_GATEWAY", "server_error"),
        (504, "GATEWAY_TIMEOUT", "timeout_error"),
        (599, "INTERNAL_ERROR", "server_error"),
    ],
)
def test_untyped_normalization_from_status(status: int, code: str, category: str) -> None:
    err = APIError(status=status)
    assert (err.code, err.category, err.type) == (code, category, "")
    assert err.status == (status or 500)


def test_untyped_status_outside_error_range_becomes_500() -> None:
    err = APIError(status=302, code="", category="client_error")
    assert (err.status, err.code, err.category) == (500, "INTERNAL_ERROR", "server_error")


def test_details_drop_empty_keys_and_are_deep_copied() -> None:
    inner = {"a": [1, {"b": 2}]}
    details = {"": "dropped", "field": inner}
    err = APIError(ErrorType.VALIDATION, details=details)
    inner["a"].append(3)  # type: ignore[attr-defined]
    assert err.details == {"field": {"a": [1, {"b": 2}]}}
    got = err.details
    got["field"]["a"].append("x")
    assert err.details == {"field": {"a": [1, {"b": 2}]}}


def test_builder_defaults_and_fluent_api() -> None:
    assert APIError().status == 500
    cause = KeyError("k")
    err = (
        ErrorBuilder()
        .type(ErrorType.CONFLICT)
        .code("item.exists")
        .message("exists")
        .detail("id", "1")
        .details({"x": 2})
        .request_id("  req-1 ")
        .wrap(cause)
        .build()
    )
    assert (err.status, err.code, err.message, err.category) == (409, "item.exists", "exists", "client_error")
    assert err.details == {"id": "1", "x": 2}
    assert err.request_id == "req-1"
    assert err.__cause__ is cause
    default = ErrorBuilder().build()
    assert (default.status, default.code, default.category, default.type) == (500, "INTERNAL_ERROR", "server_error", "")


def test_as_api_error_walks_cause_chain() -> None:
    api = APIError(ErrorType.GONE)
    try:
        try:
            raise api
        except APIError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as outer:
        assert as_api_error(outer) is api
    assert as_api_error(ValueError("x")) is None
    assert as_api_error(None) is None


def test_extra_codes_exist() -> None:
    assert ErrorCode.INVALID_JSON == "INVALID_JSON"
    assert ErrorCode.INVALID_QUERY == "INVALID_QUERY"


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        # Go's http.StatusText; Python 3.13's HTTPStatus says "Content Too Large", "Unprocessable Content", ...
        (413, "Request Entity Too Large"),
        (414, "Request URI Too Long"),
        (416, "Requested Range Not Satisfiable"),
        (418, "I'm a teapot"),
        (422, "Unprocessable Entity"),
        (404, "Not Found"),
        (599, ""),
    ],
)
def test_status_text_is_gos_fixed_table(status: int, phrase: str) -> None:
    assert status_text(status) == phrase
    if 400 <= status < 599:
        assert APIError(status=status).message == phrase

