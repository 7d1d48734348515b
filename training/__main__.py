"""Command line: ``python -m training {validate,train,evaluate,experiment,export-decisions,retrain}``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.settings import get_settings
from service.taxonomy import load_taxonomy
from training.corpus import CORPUS_DIR

#: ``retrain`` exit code when the gate kept the current model (not an error, but worth a cron mail).
REFUSED_EXIT_CODE = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check the corpus against the taxonomy, print its distribution")
    validate.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    validate.add_argument("--strict", action="store_true", help="quota shortfalls and near duplicates fail too")

    train = commands.add_parser("train", help="build a model bundle from the corpus")
    train.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    train.add_argument("--models-dir", type=Path, default=None, help="default: MODELS_DIR setting (models/)")
    train.add_argument("--jobs", type=int, default=2, help="parallel worker processes for the fold fits")
    train.add_argument("--no-set-current", action="store_true", help="do not point models/CURRENT at the result")

    evaluate = commands.add_parser("evaluate", help="evaluate the current (or given) bundle on labelled JSONL")
    evaluate.add_argument("--data", type=Path, required=True,
                          help="labelled JSONL (corpus format), or a folder of them (e.g. data/eval)")
    evaluate.add_argument("--model", type=Path, default=None, help="bundle folder; default: models/CURRENT")
    evaluate.add_argument("--out", type=Path, default=Path("reports") / "evaluation")

    commands.add_parser("experiment", help="compare feature/classifier choices on the validation split")

    export = commands.add_parser("export-decisions", help="officers' decisions as masked corpus records")
    export.add_argument("--database-url", default=None, help="default: DATABASE_URL setting")
    export.add_argument("--out", type=Path, required=True)

    retrain = commands.add_parser("retrain", help="learn from decisions; promote only if not worse")
    retrain.add_argument("--database-url", default=None, help="default: DATABASE_URL setting")
    retrain.add_argument("--models-dir", type=Path, default=None, help="default: MODELS_DIR setting (models/)")
    retrain.add_argument("--tolerance", type=float, default=0.01,
                         help="largest drop of a headline metric still accepted (default 0.01)")

    args = parser.parse_args(argv)
    taxonomy = load_taxonomy()
    if args.command == "validate":
        return _validate(args, taxonomy)
    if args.command == "train":
        return _train(args)
    if args.command == "export-decisions":
        return _export(args, taxonomy)
    if args.command == "retrain":
        return _retrain(args)
    if args.command == "experiment":
        from training.experiments import run

        run()
        return 0
    return _evaluate(args, taxonomy)


def _validate(args, taxonomy) -> int:
    from training.validate import validate_corpus

    return validate_corpus(args.corpus, taxonomy, strict=args.strict)


def _train(args) -> int:
    from training.train import train

    models_dir = args.models_dir or get_settings().models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    result = train(models_dir, corpus_dir=args.corpus, n_jobs=args.jobs, set_as_current=not args.no_set_current)
    print(json.dumps({"version": result.bundle.version, "directory": str(result.directory),
                      "seconds": round(result.seconds, 1), "metrics": result.bundle.metrics,
                      "thresholds": result.bundle.thresholds}, ensure_ascii=False, indent=2))
    return 0


def _export(args, taxonomy) -> int:
    from training.export import export_decisions, summary_json, write_records

    records, summary = export_decisions(args.database_url or get_settings().database_url, taxonomy)
    write_records(records, args.out)
    print(summary_json(summary))
    return 0


def _retrain(args) -> int:
    from training.retrain import retrain

    models_dir = args.models_dir or get_settings().models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    outcome = retrain(args.database_url or get_settings().database_url, models_dir, args.tolerance)
    print(json.dumps({"promoted": outcome.promoted, "candidate": outcome.candidate_version,
                      "current_before": outcome.current_version, "reasons": outcome.reasons,
                      "report": str(outcome.report_path)}, ensure_ascii=False, indent=2))
    return 0 if outcome.promoted else REFUSED_EXIT_CODE


def _evaluate(args, taxonomy) -> int:
    from service.model import BundleError, current_bundle_dir, load_bundle
    from service.routing import default_router
    from service.triage import Triager
    from training.corpus import corpus_files, load_records
    from training.evaluate import evaluate, write_report

    try:
        directory = args.model or current_bundle_dir(get_settings().models_dir)
        bundle = load_bundle(directory, taxonomy)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.data.exists():
        print(f"error: {args.data} does not exist", file=sys.stderr)
        return 2
    records, problems = load_records(corpus_files(args.data) if args.data.is_dir() else [args.data], taxonomy)
    for problem in problems:
        print(f"skipped {problem}", file=sys.stderr)
    if not records:
        print(f"error: no valid labelled record in {args.data}", file=sys.stderr)
        return 2
    report = evaluate(Triager(bundle, default_router(), taxonomy), records, taxonomy)
    write_report(report, args.out)
    print_report(report)
    print(f"\nreport: {args.out / 'report.json'}; confusion matrices: {args.out}/confusion_*.png")
    return 0


def print_report(report: dict) -> None:
    print(f"model {report['model_version']} on {report['records']} petitions")
    for head, scores in report["heads"].items():
        extra = f"  top-3 {scores['top3']:.3f}" if scores.get("top3") is not None else ""
        print(f"\n{head}: accuracy {scores['accuracy']:.3f}  macro-F1 {scores['macro_f1']:.3f}{extra}")
        print(f"  {'class':30s} {'prec':>6s} {'rec':>6s} {'f1':>6s} {'n':>5s}")
        for label, s in scores["per_class"].items():
            if s["support"]:
                print(f"  {label:30s} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:5d}")
    print("\nby channel:")
    for channel, s in {**report["by_channel"], "(no diacritics)": report["no_diacritics"]}.items():
        if s["records"]:
            print(f"  {channel:16s} n={s['records']:4d} sector acc {s['sector_accuracy']:.3f} macro-F1 "
                  f"{s['sector_macro_f1']:.3f}  department {s['department_top1']:.3f}  type macro-F1 "
                  f"{s['petition_type_macro_f1']:.3f}")
    review = report["review"]
    print(f"\nneeds_review below {review['threshold']}: {review['auto_share']:.1%} routed automatically, "
          f"{review['auto_accuracy'] or 0:.1%} of them right (all: {review['accuracy_of_all']:.1%})")
    print("headline: " + json.dumps(report["headline"]))


if __name__ == "__main__":
    sys.exit(main())
