"""Batch classification of a JSONL file: one result per input line, in order; a bad line gets an error
record for its id and the run goes on (nothing the caller sent is silently dropped)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from service.triage import Triager

CHUNK = 256


@dataclass
class BatchSummary:
    lines: int = 0
    classified: int = 0
    errors: int = 0


def parse_line(number: int, line: str, max_chars: int) -> tuple[Any, str | None, str | None]:
    """(id, text, error) for one input line."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(obj, dict):
        return None, None, f"line {number}: expected a JSON object with 'id' and 'text'"
    item_id = obj.get("id")
    if item_id is None or isinstance(item_id, (dict, list)):
        return item_id, None, f"line {number}: field 'id' is missing or not a string/number"
    text = obj.get("text")
    if not isinstance(text, str):
        return item_id, None, f"line {number}: field 'text' is missing or not a string"
    if not text.strip():
        return item_id, None, f"line {number}: field 'text' is empty"
    if len(text) > max_chars:
        return item_id, None, f"line {number}: field 'text' has {len(text)} characters, more than {max_chars}"
    return item_id, text, None


def classify_stream(triager: Triager, source: IO[str], sink: IO[str], max_chars: int = 20_000) -> BatchSummary:
    summary = BatchSummary()
    for results in _chunks(triager, source, max_chars, summary):
        for result in results:
            sink.write(json.dumps(result, ensure_ascii=False) + "\n")
    return summary


def _chunks(triager: Triager, source: IO[str], max_chars: int, summary: BatchSummary) -> Iterator[list[dict]]:
    pending: list[tuple[Any, str | None, str | None]] = []
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        summary.lines += 1
        pending.append(parse_line(number, line, max_chars))
        if len(pending) >= CHUNK:
            yield _run(triager, pending, summary)
            pending = []
    if pending:
        yield _run(triager, pending, summary)


def _run(triager: Triager, items: list[tuple[Any, str | None, str | None]], summary: BatchSummary) -> list[dict]:
    valid = [(i, text) for i, (_, text, error) in enumerate(items) if error is None]
    triaged = dict(zip((i for i, _ in valid), triager.triage_many([text for _, text in valid]))) if valid else {}
    results = []
    for i, (item_id, _, error) in enumerate(items):
        if error is not None:
            summary.errors += 1
            results.append({"id": item_id, "error": error})
        else:
            summary.classified += 1
            results.append({"id": item_id, **triaged[i].as_dict()})
    return results
