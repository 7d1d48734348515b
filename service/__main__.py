"""Command line: ``python -m service {classify,serve}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service")
    commands = parser.add_subparsers(dest="command", required=True)

    classify = commands.add_parser("classify", help="classify a JSONL file of {id, text} lines")
    classify.add_argument("--input", type=Path, required=True, help="JSONL, one {\"id\", \"text\"} per line ('-' = stdin)")
    classify.add_argument("--output", type=Path, required=True, help="JSONL results ('-' = stdout)")
    classify.add_argument("--model", type=Path, default=None, help="bundle folder; default: models/CURRENT")

    serve = commands.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    args = parser.parse_args(argv)
    if args.command == "classify":
        return _classify(args)
    return _serve(args)


def _classify(args) -> int:
    from service.batch import classify_stream
    from service.model import BundleError
    from service.triage import load_triager

    settings = get_settings()
    try:
        triager = load_triager(settings.models_dir, args.model, settings.review_threshold_override)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if str(args.input) != "-" and not args.input.is_file():
        print(f"error: input file {args.input} does not exist", file=sys.stderr)
        return 2
    source = sys.stdin if str(args.input) == "-" else open(args.input, encoding="utf-8")
    sink = sys.stdout if str(args.output) == "-" else open(args.output, "w", encoding="utf-8")
    with source, sink:
        summary = classify_stream(triager, source, sink, settings.max_text_chars)
    print(f"{summary.lines} lines: {summary.classified} classified, {summary.errors} errors "
          f"(model {triager.version})", file=sys.stderr)
    return 0


def _serve(args) -> int:
    import os

    from service.logs import logging_config
    from service.store import migrate
    from service.workers import serve

    settings = get_settings()
    if settings.auto_migrate:
        # Once, here, rather than in every worker at the same moment.
        migrate(settings.database_url)
        os.environ["AUTO_MIGRATE"] = "false"
    return serve(args.host, args.port, args.workers, logging_config(settings.log_level))

if __name__ == "__main__":
    sys.exit(main())
