"""plumego.x.validate (experimental): bind JSON request bodies to typed values; failures are canonical envelopes.

::

    @dataclass
    class NewItem:
        name: Annotated[str, Rule(min_length=1, max_length=80)]
        qty: int = 1

    async def create_item(request: Request) -> dict[str, object]:
        item = await bind(request, NewItem)        # 400 INVALID_JSON, 413, or 422 VALIDATION_ERROR per field
        ...

Dataclasses, TypedDicts and plain types are checked by compiled converters (strict JSON typing, 64-bit integers,
unknown fields refused); pydantic v2 models and msgspec Structs decode with their own libraries
(``pip install 'plumego[validate]'``) and answer the same error shapes. Go's x/validate only decodes and calls a
caller-supplied validator; here the type itself is the validation, with every failing field reported at once.
Imports the standard library and plumego.contract only; never plumego.core or another x/* family.
"""

from ._bind import DEFAULT_MAX_BODY, Check, bind, convert, decode, read_body, validated
from ._convert import Extra, Rule, UnsupportedType
from ._errors import MAX_FIELD_ERRORS, FieldError, ValidationError
from ._params import bind_path, bind_query

__all__ = [
    "Check",
    "DEFAULT_MAX_BODY",
    "Extra",
    "FieldError",
    "MAX_FIELD_ERRORS",
    "Rule",
    "UnsupportedType",
    "ValidationError",
    "bind",
    "bind_path",
    "bind_query",
    "convert",
    "decode",
    "read_body",
    "validated",
]
