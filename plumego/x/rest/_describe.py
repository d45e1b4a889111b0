"""OpenAPI operation hints for a DB resource, derived from its table: plain mappings that x/openapi accepts.

Owns :func:`resource_hints`: request and response JSON Schemas from the columns (types, nullability, required,
max length), the list query parameters from the resource's allow lists, the paginated and batch answers. x/rest
does not import x/openapi; the hints are plain data in the shape ``x.openapi.Hint`` reads. Imports the standard
library only.
"""

from __future__ import annotations

from typing import Any, Final

from ._repository import Column, TableSpec

__all__ = ["resource_hints"]

_JSON_TYPES: Final = {"text": "string", "integer": "integer", "real": "number", "boolean": "boolean"}


def _column_schema(column: Column) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES[column.type]}
    if column.type == "text" and column.max_length is not None:
        schema["maxLength"] = column.max_length
    if column.type == "integer":
        schema.update(minimum=-(1 << 63), maximum=(1 << 63) - 1)
    if column.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _input_schema(table: TableSpec, full: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {c.name: _column_schema(c) for c in table.columns},
                              "additionalProperties": False}
    required = [c.name for c in table.columns if c.required] if full else []
    if required:
        schema["required"] = required
    return schema


def _record_schema(table: TableSpec) -> dict[str, Any]:
    properties: dict[str, Any] = {"id": {"type": "integer"}}
    properties.update({c.name: _column_schema(c) for c in table.columns})
    properties.update(created_at={"type": "string"}, updated_at={"type": "string"})
    return {"type": "object", "properties": properties, "required": ["id"]}


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"data": data, "request_id": {"type": "string"}}, "required": ["data"]}


def resource_hints(table: TableSpec, name: str, *, sorts: tuple[str, ...], filters: tuple[str, ...],
                   max_page_size: int, max_batch: int, output: dict[str, Any] | None = None
                   ) -> dict[str, dict[str, Any]]:
    record = output if output is not None else _record_schema(table)
    integer = {"type": "integer", "minimum": 1}
    query: dict[str, Any] = {
        "page": {"type": "integer", "minimum": 1, "maximum": 10_000_000},
        "page_size": {"type": "integer", "minimum": 1, "maximum": max_page_size},
        "limit": {"type": "integer", "minimum": 1, "maximum": max_page_size},
        "offset": {"type": "integer", "minimum": 0, "maximum": 1 << 40},
        "sort": {"type": "string", "description": f"comma-separated, '-' for descending; allowed: {', '.join(sorts)}"},
        "q": {"type": "string", "maxLength": 200},
        "search": {"type": "string", "maxLength": 200},
        "fields": {"type": "string", "description": "comma-separated field names"},
    }
    for key in filters:
        column = table.by_name.get(key)
        query[key] = {"type": "integer"} if column is None else {"type": _JSON_TYPES[column.type]}
    pagination = {"type": "object", "properties": {
        "page": {"type": "integer"}, "page_size": {"type": "integer"}, "total_items": {"type": "integer"},
        "total_pages": {"type": "integer"}, "has_next": {"type": "boolean"}, "has_prev": {"type": "boolean"}}}
    listing = {"type": "object", "properties": {
        "data": {"type": "array", "items": record},
        "meta": {"type": "object", "properties": {"pagination": pagination}, "required": ["pagination"]},
        "request_id": {"type": "string"}}, "required": ["data", "meta"]}
    batch_result = _envelope({"type": "object", "properties": {
        "successful": {"type": "integer"}, "failed": {"type": "integer"}, "total": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "object"}}, "items": {"type": "array"}},
        "required": ["successful", "failed", "total", "errors"]})
    item_path = {"id": integer}
    tags = (name,)
    return {
        f"{name}.index": {"summary": f"List {name}", "tags": tags, "query": query, "responses": {200: listing}},
        f"{name}.create": {"summary": f"Create one of {name}", "tags": tags, "request": _input_schema(table, True),
                           "responses": {201: _envelope(record)}},
        f"{name}.show": {"summary": f"Get one of {name}", "tags": tags, "path": item_path,
                         "query": {"fields": query["fields"]}, "responses": {200: _envelope(record)}},
        f"{name}.update": {"summary": f"Replace one of {name}", "tags": tags, "path": item_path,
                           "request": _input_schema(table, True), "responses": {200: _envelope(record)}},
        f"{name}.patch": {"summary": f"Change one of {name}", "tags": tags, "path": item_path,
                          "request": _input_schema(table, False), "responses": {200: _envelope(record)}},
        f"{name}.delete": {"summary": f"Delete one of {name}", "tags": tags, "path": item_path,
                           "responses": {204: None}},
        f"{name}.batch_create": {"summary": f"Create up to {max_batch} of {name}", "tags": tags, "request": {
            "type": "object", "properties": {"items": {"type": "array", "items": _input_schema(table, True),
                                                       "minItems": 1, "maxItems": max_batch}},
            "required": ["items"]}, "responses": {200: batch_result}},
        f"{name}.batch_delete": {"summary": f"Delete up to {max_batch} of {name}", "tags": tags, "request": {
            "type": "object", "properties": {"ids": {"type": "array", "items": integer, "minItems": 1,
                                                     "maxItems": max_batch}},
            "required": ["ids"]}, "responses": {200: batch_result}},
        f"{name}.head": {"summary": f"Count {name}", "tags": tags, "query": query, "responses": {200: None}},
        f"{name}.head_item": {"summary": f"Check one of {name} exists", "tags": tags, "path": item_path,
                              "responses": {200: None}},
        f"{name}.options": {"summary": f"Methods allowed on {name}", "tags": tags, "responses": {204: None}},
        f"{name}.options_item": {"summary": f"Methods allowed on one of {name}", "tags": tags, "path": item_path,
                                 "responses": {204: None}},
    }
