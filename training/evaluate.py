"""Evaluation of a triager on labelled petitions: per head, per class, per channel, without diacritics.

Department accuracy is judged in national codes: the taxonomy says each province-specific department and its
fallback are equivalent for evaluation.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from service.taxonomy import Taxonomy
from service.text import diacritic_ratio, fold_diacritics
from service.triage import Triage, Triager
from training.corpus import Record

NO_DIACRITICS_RATIO = 0.05
CLASS_HEADS = ("sector", "petition_type", "urgency")


def _predict(triager: Triager, records: list[Record], batch: int = 256) -> list[Triage]:
    results: list[Triage] = []
    for start in range(0, len(records), batch):
        chunk = records[start:start + batch]
        results.extend(triager.triage_many([r.text for r in chunk], [r.province for r in chunk]))
    return results


def _head_scores(gold: list[str], predicted: list[str], labels: list[str]) -> dict[str, Any]:
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    present = [label for label in labels if label in set(gold)]
    return {
        "accuracy": round(float(accuracy_score(gold, predicted)), 4) if gold else None,
        "macro_f1": round(float(f1_score(gold, predicted, labels=present, average="macro", zero_division=0)), 4)
        if gold else None,
        "per_class": {label: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
                              "support": int(s)} for label, p, r, f, s in zip(labels, precision, recall, f1, support)},
        "confusion": {"labels": labels, "matrix": confusion_matrix(gold, predicted, labels=labels).tolist()} if gold else None,
    }


def evaluate(triager: Triager, records: list[Record], taxonomy: Taxonomy) -> dict[str, Any]:
    """Full report for ``records`` (originals, never seen in training)."""
    predictions = _predict(triager, records)
    national = taxonomy.national_department
    gold = {head: [r.label(head) for r in records] for head in CLASS_HEADS}
    predicted = {"sector": [p.sector.code for p in predictions],
                 "petition_type": [p.petition_type.code for p in predictions],
                 "urgency": [p.urgency.code for p in predictions]}
    gold["department"] = [national(r.department) for r in records]
    predicted["department"] = [national(p.departments[0].code) if p.departments else "" for p in predictions]
    top3 = [g in {national(d.code) for d in p.departments[:3]} for g, p in zip(gold["department"], predictions)]

    heads = {head: _head_scores(gold[head], predicted[head], taxonomy.labels(head)) for head in (*CLASS_HEADS, "department")}
    heads["department"]["top3"] = round(float(np.mean(top3)), 4) if top3 else None

    by_channel = {}
    for channel in sorted({r.channel for r in records}):
        idx = [i for i, r in enumerate(records) if r.channel == channel]
        by_channel[channel] = _subset_scores(idx, gold, predicted, taxonomy)
    no_diacritics = [i for i, r in enumerate(records) if diacritic_ratio(r.text) < NO_DIACRITICS_RATIO]

    # The same held-out petitions typed without diacritics: does the folded twin land where the original did?
    accented = [r for r in records if diacritic_ratio(r.text) >= NO_DIACRITICS_RATIO]
    folded_predictions = _predict(triager, [replace(r, text=fold_diacritics(r.text)) for r in accented])
    folded_gold = [r.sector for r in accented]
    folded_pred = [p.sector.code for p in folded_predictions]

    urgency = heads["urgency"]["per_class"].get("khan_cap", {})
    review = [p.needs_review for p in predictions]
    correct = [s == g and d == gd for s, g, d, gd in zip(predicted["sector"], gold["sector"], predicted["department"],
                                                           gold["department"])]
    auto = [c for c, r in zip(correct, review) if not r]
    report = {
        "model_version": triager.version,
        "records": len(records),
        "heads": heads,
        "by_channel": by_channel,
        "no_diacritics": _subset_scores(no_diacritics, gold, predicted, taxonomy),
        "folded_twins": {"records": len(accented),
                         "sector_macro_f1": round(float(f1_score(folded_gold, folded_pred, average="macro", zero_division=0)), 4)
                         if accented else None},
        "review": {"threshold": triager.review_threshold, "auto_share": round(1 - float(np.mean(review)), 4) if review else None,
                   "auto_accuracy": round(float(np.mean(auto)), 4) if auto else None,
                   "accuracy_of_all": round(float(np.mean(correct)), 4) if correct else None},
        "errors": [
            {"id": r.id, "channel": r.channel, "text": r.text[:300],
             **{f"{head}": {"gold": gold[head][i], "predicted": predicted[head][i]}
                for head in ("sector", "department", "petition_type", "urgency") if gold[head][i] != predicted[head][i]}}
            for i, r in enumerate(records)
            if any(gold[h][i] != predicted[h][i] for h in ("sector", "department"))
        ],
    }
    report["headline"] = {
        "sector_macro_f1": heads["sector"]["macro_f1"],
        "sector_macro_f1_no_diacritics": report["no_diacritics"]["sector_macro_f1"],
        "sector_macro_f1_folded_twins": report["folded_twins"]["sector_macro_f1"],
        "department_top1": heads["department"]["accuracy"],
        "department_top3": heads["department"]["top3"],
        "petition_type_macro_f1": heads["petition_type"]["macro_f1"],
        "urgency_macro_f1": heads["urgency"]["macro_f1"],
        "khan_cap_recall": urgency.get("recall"),
        "khan_cap_precision": urgency.get("precision"),
        "auto_share": report["review"]["auto_share"],
        "auto_accuracy": report["review"]["auto_accuracy"],
    }
    return report


def _subset_scores(idx: list[int], gold: dict, predicted: dict, taxonomy: Taxonomy) -> dict[str, Any]:
    if not idx:
        return {"records": 0, "sector_accuracy": None, "sector_macro_f1": None, "department_top1": None,
                "petition_type_macro_f1": None}

    def pick(values: list[str]) -> list[str]:
        return [values[i] for i in idx]

    return {
        "records": len(idx),
        "sector_accuracy": round(float(accuracy_score(pick(gold["sector"]), pick(predicted["sector"]))), 4),
        "sector_macro_f1": round(float(f1_score(pick(gold["sector"]), pick(predicted["sector"]), average="macro",
                                                zero_division=0)), 4),
        "department_top1": round(float(accuracy_score(pick(gold["department"]), pick(predicted["department"]))), 4),
        "petition_type_macro_f1": round(float(f1_score(pick(gold["petition_type"]), pick(predicted["petition_type"]),
                                                       average="macro", zero_division=0)), 4),
    }


def write_report(report: dict[str, Any], directory: Path) -> Path:
    """``report.json`` plus one confusion-matrix PNG per head."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    for head, scores in report["heads"].items():
        if scores.get("confusion"):
            plot_confusion(scores["confusion"]["labels"], np.array(scores["confusion"]["matrix"]),
                           f"{head} — {report['model_version']}", directory / f"confusion_{head}.png")
    return directory


def plot_confusion(labels: list[str], matrix: np.ndarray, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(5, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    rows = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, rows, out=np.zeros_like(matrix, dtype=float), where=rows > 0)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=9)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if shares[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Headline and per-class F1 differences between two reports on the same records."""
    headline = {k: {"old": old["headline"].get(k), "new": v,
                    "change": None if v is None or old["headline"].get(k) is None else round(v - old["headline"][k], 4)}
                for k, v in new["headline"].items()}
    per_class: dict[str, dict[str, float]] = defaultdict(dict)
    for head in new["heads"]:
        for label, scores in new["heads"][head]["per_class"].items():
            before = old["heads"].get(head, {}).get("per_class", {}).get(label, {}).get("f1")
            if before is not None and abs(scores["f1"] - before) >= 0.005:
                per_class[head][label] = round(scores["f1"] - before, 4)
    return {"headline": headline, "per_class_f1_change": dict(per_class)}
