"""Batch classification of a JSONL file: one result per input line, in order; a bad line gets an error
record for its id and the run goes on (nothing the caller sent is silently dropped)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

from service.taxonomy import load_taxonomy
from service.triage import Triager

CHUNK = 256


@dataclass
class BatchSummary:
    lines: int = 0
    classified: int = 0
    errors: int = 0


class ParsedLine(NamedTuple):
    id: Any
    text: str | None
    channel: str | None
    error: str | None


def parse_line(number: int, line: str, max_chars: int) -> ParsedLine:
    """The id, text and optional channel of one input line, or the error that names the field."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return ParsedLine(None, None, None, f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(obj, dict):
        return ParsedLine(None, None, None, f"line {number}: expected a JSON object with 'id' and 'text'")
    item_id = obj.get("id")
    if item_id is None or isinstance(item_id, (dict, list)):
        return ParsedLine(item_id, None, None, f"line {number}: field 'id' is missing or not a string/number")
    text = obj.get("text")
    error = None
    if not isinstance(text, str):
        error = f"line {number}: field 'text' is missing or not a string"
    elif not text.strip():
        error = f"line {number}: field 'text' is empty"
    elif len(text) > max_chars:
        error = f"line {number}: field 'text' has {len(text)} characters, more than {max_chars}"
    channel = obj.get("channel")
    if error is None and channel is not None and channel not in (channels := load_taxonomy().channels):
        error = f"line {number}: field 'channel' is {channel!r}; valid channels: {', '.join(channels)}"
    if error is not None:
        return ParsedLine(item_id, None, None, error)
    return ParsedLine(item_id, text, channel, None)


def classify_stream(triager: Triager, source: IO[str], sink: IO[str], max_chars: int = 20_000) -> BatchSummary:
    summary = BatchSummary()
    for results in _chunks(triager, source, max_chars, summary):
        for result in results:
            sink.write(json.dumps(result, ensure_ascii=False) + "\n")
    return summary


def _chunks(triager: Triager, source: IO[str], max_chars: int, summary: BatchSummary) -> Iterator[list[dict]]:
    pending: list[ParsedLine] = []
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


def _run(triager: Triager, items: list[ParsedLine], summary: BatchSummary) -> list[dict]:
    valid = [(i, item) for i, item in enumerate(items) if item.error is None]
    triaged = dict(zip((i for i, _ in valid),
                       triager.triage_many([item.text for _, item in valid], None,
                                           [item.channel for _, item in valid]))) if valid else {}
    results = []
    for i, item in enumerate(items):
        if item.error is not None:
            summary.errors += 1
            results.append({"id": item.id, "error": item.error})
        else:
            summary.classified += 1
            results.append({"id": item.id, **triaged[i].as_dict()})
    return results
