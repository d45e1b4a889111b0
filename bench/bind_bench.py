"""bind() cost per request for a 20-field JSON body, against pydantic's model_validate_json and msgspec's decode.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bind_bench.py [--rounds 5] [--number 20000]``. All contenders
run in the same process and the same run, interleaved round by round; each is timed with ``timeit`` on the same
bytes, and the median per-call time is printed. Contenders:

- ``plumego bind (dataclass)``: the whole request path of ``x.validate.bind`` on a dataclass -- read the body from
  an ASGI receive, strict JSON parse, type-checked conversion with Rule constraints, dataclass construction;
- ``plumego decode (dataclass)``: the same without the request (bytes in);
- ``plumego bind (pydantic adapter)`` / ``(msgspec adapter)``: bind() handing the body to the library;
- ``pydantic model_validate_json`` and ``msgspec decode``: the libraries alone, same model, same bytes;
- ``json.loads only``: the floor for a pure-Python approach (parsing, no checking).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import timeit
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
import pydantic

from plumego.contract import Request
from plumego.x.validate import Rule, bind, decode


@dataclass
class Body:
    name: Annotated[str, Rule(min_length=1, max_length=80)]
    email: str
    age: Annotated[int, Rule(ge=0, le=150)]
    score: float
    active: bool
    country: Literal["DE", "FR", "CN", "US"]
    city: str
    street: str
    zip_code: str
    phone: str
    company: str
    title: str
    department: str
    salary: int
    bonus: float
    tags: list[str]
    skills: list[str]
    manager_id: int | None
    notes: str | None
    level: int


class PBody(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: Annotated[str, pydantic.Field(min_length=1, max_length=80)]
    email: str
    age: Annotated[int, pydantic.Field(ge=0, le=150)]
    score: float
    active: bool
    country: Literal["DE", "FR", "CN", "US"]
    city: str
    street: str
    zip_code: str
    phone: str
    company: str
    title: str
    department: str
    salary: int
    bonus: float
    tags: list[str]
    skills: list[str]
    manager_id: int | None
    notes: str | None
    level: int


class MBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    email: str
    age: Annotated[int, msgspec.Meta(ge=0, le=150)]
    score: float
    active: bool
    country: Literal["DE", "FR", "CN", "US"]
    city: str
    street: str
    zip_code: str
    phone: str
    company: str
    title: str
    department: str
    salary: int
    bonus: float
    tags: list[str]
    skills: list[str]
    manager_id: int | None
    notes: str | None
    level: int


PAYLOAD = json.dumps({
    "name": "Ada Lovelace", "email": "ada@example.com", "age": 36, "score": 9.5, "active": True, "country": "DE",
    "city": "Berlin", "street": "Unter den Linden 1", "zip_code": "10117", "phone": "+49 30 123456",
    "company": "Analytical Engines", "title": "Engineer", "department": "R&D", "salary": 90000, "bonus": 1250.5,
    "tags": ["math", "poetry", "engines"], "skills": ["analysis", "programming"], "manager_id": None,
    "notes": "first programmer", "level": 7,
}).encode()


def request_for(body: bytes) -> Request:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/", "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    return Request(scope, receive)


def run_async(target: Any) -> Any:
    loop = asyncio.new_event_loop()

    def call() -> Any:
        coroutine = bind(request_for(PAYLOAD), target)
        try:
            coroutine.send(None)  # bind() never suspends on an in-memory body: drive it without loop overhead
        except StopIteration as done:
            return done.value
        raise RuntimeError("bind suspended")

    loop.close()
    return call


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    decoder = msgspec.json.Decoder(MBody)
    contenders = {
        "plumego bind (dataclass)": run_async(Body),
        "plumego decode (dataclass)": lambda: decode(PAYLOAD, Body),
        "plumego bind (pydantic adapter)": run_async(PBody),
        "plumego bind (msgspec adapter)": run_async(MBody),
        "pydantic model_validate_json": lambda: PBody.model_validate_json(PAYLOAD),
        "msgspec decode": lambda: decoder.decode(PAYLOAD),
        "json.loads only": lambda: json.loads(PAYLOAD),
    }
    for fn in contenders.values():  # warm up, and prove every contender accepts the body
        fn()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, fn in contenders.items():
            samples[name].append(timeit.timeit(fn, number=args.number) / args.number * 1e6)
    print(f"python {platform.python_version()}, pydantic {pydantic.VERSION}, msgspec {msgspec.__version__}, "
          f"load average {os.getloadavg()[0]:.2f}, {args.rounds} rounds x {args.number} calls, body "
          f"{len(PAYLOAD)} bytes, 20 fields")
    base = statistics.median(samples["pydantic model_validate_json"])
    fastest = statistics.median(samples["msgspec decode"])
    print(f"{'contender':34} {'median us/call':>15} {'vs pydantic':>12} {'vs msgspec':>11}")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:34} {med:15.2f} {med / base:11.2f}x {med / fastest:10.2f}x")


if __name__ == "__main__":
    main()
