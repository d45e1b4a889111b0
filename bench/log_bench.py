"""Cost of one 10-field log line written to a real file: plumego.log (text, JSON) against the standard
library's logging formatting the same fields, measured in the same process, interleaved.

Each round writes ``--lines`` lines per variant, variants interleaved, ``--rounds`` rounds; reports the
minimum and the median µs/line over the rounds (the minimum filters out other processes on a shared box)
and the ratio to the standard-library baselines. Every logger flushes after each line to a file in a
temporary directory (stdlib: ``logging.FileHandler``, which flushes per record too).
Times are CPU time of this process (time.process_time, user + system): on a shared box, time spent
descheduled does not count.
Run: PYTHONPATH=. python bench/log_bench.py [--lines 5000] [--rounds 15]
Not a test: nothing is asserted; numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from plumego.log import LoggerConfig, new_logger

# The access log's field set (ten of its twelve fields), with realistic values.
FIELDS: dict[str, object] = {
    "method": "GET",
    "path": "/api/v1/items/42",
    "status": 200,
    "duration": "153.2µs",
    "duration_ms": 0.153,
    "request_id": "0Ab3xYz9QwE1",
    "bytes": 1234,
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "client_ip": "127.0.0.1",
    "route": "/api/v1/items/:id",
}


class _JSONFormatter(logging.Formatter):
    """What a stdlib JSON setup typically does: one json.dumps of the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record), "level": record.levelname, "msg": record.getMessage()}
        data.update({key: record.__dict__[key] for key in FIELDS})
        return json.dumps(data, ensure_ascii=False, default=str)


def _stdlib(path: Path, formatter: logging.Formatter, name: str) -> Callable[[], None]:
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    return lambda: logger.info("request completed", extra=FIELDS)


def _plumego(path: Path, fmt: str) -> Callable[[], None]:
    stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run
    logger = new_logger(LoggerConfig(format=fmt, output=stream))
    return lambda: logger.info("request completed", FIELDS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    text_format = "%(asctime)s %(levelname)s %(message)s " + " ".join(f"{key}=%({key})s" for key in FIELDS)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        variants: dict[str, Callable[[], None]] = {
            "plumego text": _plumego(root / "plumego.txt", "text"),
            "plumego json": _plumego(root / "plumego.json", "json"),
            "stdlib logging, %-format of the fields": _stdlib(root / "stdlib.txt", logging.Formatter(text_format),
                                                              "bench.text"),
            "stdlib logging, json.dumps formatter": _stdlib(root / "stdlib.json", _JSONFormatter(), "bench.json"),
        }
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, write in variants.items():
                began = time.process_time()
                for _ in range(args.lines):
                    write()
                samples[name].append((time.process_time() - began) / args.lines * 1e6)
        sizes = {path.name: path.stat().st_size for path in root.iterdir()}
    print(f"load average {os.getloadavg()}; {args.rounds} rounds x {args.lines} lines; files: {sizes}")
    base_text = min(samples["stdlib logging, %-format of the fields"])
    base_json = min(samples["stdlib logging, json.dumps formatter"])
    print(f"{'variant':42s} {'min µs':>8s} {'median µs':>10s} {'min vs stdlib %-format':>23s} {'vs stdlib json':>15s}")
    for name, values in samples.items():
        best = min(values)
        print(f"{name:42s} {best:8.2f} {statistics.median(values):10.2f} "
              f"{best / base_text:22.2f}x {best / base_json:14.2f}x")


if __name__ == "__main__":
    main()
