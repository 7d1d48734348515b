"""``python -m training retrain``: learn from officers' decisions, and promote only a model that is not worse.

1. export decided petitions (masked; officers' labels win) from the database;
2. merge them into the training side of the base corpus: a decision that duplicates a corpus record replaces
   it; one that duplicates a held-out record is not used, so the held-out set stays unseen;
3. train a candidate on that, holding out the frozen set: the base corpus's held-out split, deterministic by
   group id, identical in every run;
4. evaluate the current model on the same set, and promote the candidate (``models/CURRENT``) only if no
   headline metric (sector macro-F1, department top-1, khan_cap recall) is worse by more than the tolerance;
5. write the run's report (old vs new, per-class changes, confusion matrices, what the new model still gets
   wrong) beside the candidate bundle, promoted or not.
Running services pick up a promoted bundle by themselves within seconds (``service/serving.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.model import BundleError, current_bundle_dir, load_bundle, set_current
from service.routing import default_router
from service.taxonomy import load_taxonomy
from service.triage import Triager
from training.corpus import load_corpus
from training.evaluate import compare, evaluate, write_report
from training.export import export_decisions
from training.progress import Progress
from training.split import split_by_group
from training.train import hash_text, merge_records, train

GATED_METRICS = ("sector_macro_f1", "department_top1", "khan_cap_recall")
DEFAULT_TOLERANCE = 0.01
REPORT_FILE = "retrain_report.json"


@dataclass
class RetrainOutcome:
    promoted: bool
    reasons: list[str]
    candidate_version: str
    current_version: str | None
    report_path: Path
    report: dict[str, Any] = field(repr=False, default_factory=dict)


def gate(current: dict[str, float] | None, candidate: dict[str, float], tolerance: float) -> tuple[bool, list[str]]:
    """(promote?, reasons): the candidate may not be worse than the current model by more than ``tolerance``."""
    if current is None:
        return True, ["no servable current model to compare with: the candidate becomes current"]
    reasons, promote = [], True
    for metric in GATED_METRICS:
        old, new = current.get(metric), candidate.get(metric)
        if old is None or new is None:
            continue
        if new < old - tolerance:
            promote = False
            reasons.append(f"{metric} fell from {old:.4f} to {new:.4f} (more than the tolerance {tolerance})")
        else:
            reasons.append(f"{metric} {old:.4f} → {new:.4f}")
    return promote, reasons


def retrain(database_url: str, models_dir: Path, tolerance: float = DEFAULT_TOLERANCE, quiet: bool = False,
            n_jobs: int = 2) -> RetrainOutcome:
    taxonomy = load_taxonomy()
    router = default_router()
    progress = Progress(["export", "merge", "train", "current model", "gate", "report"], quiet=quiet)

    decisions, exported = export_decisions(database_url, taxonomy)
    progress.done("export", f"{exported.decided} decided petitions, {exported.exported} usable, "
                            f"{len(exported.skipped)} skipped")

    base_train, held_out = split_by_group(load_corpus(taxonomy))
    held_out_hashes = {hash_text(r.text) for r in held_out}
    usable = [d for d in decisions if d.text_hash not in held_out_hashes]
    train_records, replaced = merge_records(base_train, usable)
    progress.done("merge", f"{len(usable)} decisions used ({replaced} replace corpus records, "
                           f"{len(decisions) - len(usable)} duplicate held-out petitions and are left out)")

    result = train(models_dir, split=(train_records, held_out), set_as_current=False, router=router, quiet=True,
                   n_jobs=n_jobs)
    candidate_dir = result.directory
    progress.done("train", f"candidate {result.bundle.version}")

    current_report, current_version, current_note = None, None, None
    try:
        current_dir = current_bundle_dir(models_dir)
        current = load_bundle(current_dir, taxonomy)
        current_version = current.version
        current_report = evaluate(Triager(current, router, taxonomy), result.test, taxonomy)
        write_report(current_report, candidate_dir / "report_current_model")
    except BundleError as exc:
        current_note = str(exc)
    progress.done("current model", current_version or f"none servable ({current_note})")

    promote, reasons = gate(current_report["headline"] if current_report else None, result.report["headline"],
                            tolerance)
    if promote:
        set_current(models_dir, candidate_dir)
    progress.done("gate", ("promoted: " if promote else "refused, current model kept: ") + "; ".join(reasons))

    report = {
        "candidate_version": result.bundle.version,
        "current_version": current_version,
        "current_model_note": current_note,
        "promoted": promote,
        "reasons": reasons,
        "tolerance": tolerance,
        "held_out_records": len(result.test),
        "decisions": {"decided": exported.decided, "exported": exported.exported, "skipped": exported.skipped,
                      "used": len(usable), "replaced_corpus_records": replaced,
                      "left_out_as_held_out_duplicates": len(decisions) - len(usable)},
        "training_records": len(train_records),
        "comparison": compare(current_report, result.report) if current_report else None,
        "still_wrong": result.report["errors"],
    }
    report_path = candidate_dir / REPORT_FILE
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (candidate_dir / "RETRAIN_REPORT.md").write_text(markdown(report), encoding="utf-8")
    progress.done("report", str(report_path))
    return RetrainOutcome(promote, reasons, result.bundle.version, current_version, report_path, report)


def markdown(report: dict[str, Any]) -> str:
    """A human-readable page of the run for the operator."""
    lines = [f"# Retraining run: {report['candidate_version']}", "",
             f"**{'Promoted' if report['promoted'] else 'Refused — current model kept'}** "
             f"(current: {report['current_version'] or 'none'}, tolerance {report['tolerance']}).", "",
             *[f"- {reason}" for reason in report["reasons"]], "",
             "## Data", "", *[f"- {k}: {v if not isinstance(v, list) else len(v)}" for k, v in report["decisions"].items()],
             f"- training records: {report['training_records']}; held-out (frozen): {report['held_out_records']}", ""]
    if report["comparison"]:
        lines += ["## Headline metrics (same held-out petitions)", "", "| metric | current | candidate | change |",
                  "|---|---|---|---|"]
        for metric, values in report["comparison"]["headline"].items():
            lines.append(f"| {metric} | {values['old']} | {values['new']} | {values['change']} |")
        lines += ["", "## Per-class F1 changes (|Δ| ≥ 0.005)", ""]
        for head, changes in report["comparison"]["per_class_f1_change"].items():
            lines.append(f"- {head}: " + ", ".join(f"{label} {delta:+.3f}" for label, delta in sorted(changes.items())))
    lines += ["", f"## Still wrong ({len(report['still_wrong'])} held-out petitions; first 20)", ""]
    for error in report["still_wrong"][:20]:
        wrong = {k: v for k, v in error.items() if isinstance(v, dict)}
        lines.append(f"- `{error['id']}` ({error['channel']}): " + ", ".join(
            f"{head} {v['gold']} → {v['predicted']}" for head, v in wrong.items()))
    lines += ["", "Confusion matrices: `report/` (candidate), `report_current_model/` (current)."]
    return "\n".join(lines) + "\n"
