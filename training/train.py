"""Train every head, tune the serving thresholds on out-of-fold predictions, write a versioned bundle.

Steps (each shown in the progress display):
1. split the corpus by group into train / held-out test (deterministic, ``training.split``);
2. fit the shared features and every head on augmented ``train`` (``training.calibration``: group folds
   give each training petition a probability from a model that did not see it);
3. choose the department model weight, the needs_review threshold and the khan_cap threshold on those
   out-of-fold probabilities of the training originals, never on the test split;
4. evaluate on the held-out originals;
5. save bundle + manifest + metrics + model card under ``models/<version>/`` and point ``models/CURRENT``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.pipeline import Pipeline

from service.model import ModelBundle, set_current
from service.routing import Router, default_router
from service.taxonomy import HEADS, Taxonomy, load_taxonomy
from service.text import fold_diacritics
from service.triage import Triager
from training.augment import augment
from training.corpus import Record, data_hash, hash_text, load_corpus
from training.calibration import fit_calibrated_heads
from training.pipeline import assemble, build_features
from training.progress import Progress
from training.split import split_by_group

#: needs_review threshold: the lowest confidence at which what is routed automatically is right this often.
TARGET_AUTO_ACCURACY = 0.95
#: khan_cap threshold: the highest probability cut that still finds this share of emergencies.
TARGET_KHAN_CAP_RECALL = 0.95
MODEL_WEIGHTS = (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0)
THRESHOLD_GRID = tuple(round(float(x), 2) for x in np.arange(0.30, 0.96, 0.05))


@dataclass
class TrainResult:
    bundle: ModelBundle
    directory: Path | None
    train: list[Record]
    test: list[Record]
    seconds: float
    report: dict


@dataclass
class FittedHeads:
    heads: dict[str, Pipeline]
    #: head → calibrated out-of-fold probabilities of every training row (columns in label order)
    out_of_fold: dict[str, np.ndarray]


def fit_heads(records: list[Record], taxonomy: Taxonomy, n_jobs: int = 2,
              step: Callable[[str], None] | None = None) -> FittedHeads:
    """Fit shared features once and one calibrated classifier per head on ``records`` (already augmented)."""
    texts = [r.text for r in records]
    features = build_features()
    X = features.fit_transform(texts)
    if step:
        step("features")
    labels = {}
    for head in HEADS:
        labels[head] = [r.label(head) for r in records]
        missing = set(taxonomy.labels(head)) - set(labels[head])
        if missing:
            raise ValueError(f"no training example for {head} {sorted(missing)}: the corpus must cover every label")
    fitted = fit_calibrated_heads(X, labels, [r.group for r in records], n_jobs=n_jobs, on_head_done=step)
    return FittedHeads(heads={head: assemble(features, fitted[head].model) for head in HEADS},
                       out_of_fold={head: fitted[head].out_of_fold for head in HEADS})


def indicative_keywords(records: list[Record], per_sector: int = 150, min_count: int = 3) -> dict[str, dict[str, float]]:
    """Per sector, folded words and word pairs most over-represented in its petitions (smoothed log-odds)."""
    vectorizer = CountVectorizer(preprocessor=lambda t: fold_diacritics(t.lower()), token_pattern=r"(?u)\b[^\W\d_]{2,}\b",
                                 ngram_range=(1, 2), binary=True, min_df=min_count)
    counts = vectorizer.fit_transform([r.text for r in records]).tocsc()
    vocabulary = vectorizer.get_feature_names_out()
    sectors = np.array([r.sector for r in records])
    total = np.asarray(counts.sum(axis=0)).ravel() + 1.0
    result: dict[str, dict[str, float]] = {}
    for sector in sorted(set(sectors)):
        in_sector = np.asarray(counts[sectors == sector].sum(axis=0)).ravel() + 0.5
        n_in = (sectors == sector).sum() + 1.0
        n_out = len(records) - n_in + 2.0
        score = np.log(in_sector / n_in) - np.log((total - in_sector + 1.0) / n_out)
        score *= np.log1p(in_sector)  # favour phrases that occur often, not one-off names
        top = np.argsort(-score)[:per_sector]
        result[sector] = {str(vocabulary[i]): round(float(score[i]), 3) for i in top if score[i] > 0}
    return result


def tune_thresholds(router: Router, validation: list[Record], probs: dict[str, np.ndarray],
                    labels: dict[str, list[str]], taxonomy: Taxonomy) -> dict:
    """Department model weight, needs_review threshold and khan_cap threshold.

    ``probs`` are each head's probabilities for ``validation`` (rows in the same order) from models that did
    not see those petitions: the out-of-fold probabilities of the training originals.
    """
    texts = [r.text for r in validation]
    gold_dept = [taxonomy.national_department(r.department) for r in validation]
    per_item = [{head: dict(zip(labels[head], probs[head][i])) for head in probs} for i in range(len(texts))]

    best_weight, best_accuracy = 0.5, -1.0
    for weight in MODEL_WEIGHTS:
        hits = 0
        for text, item, gold in zip(texts, per_item, gold_dept):
            top = router.route(text, item["sector"], item["department"], None, weight, limit=1)
            hits += bool(top) and taxonomy.national_department(top[0].code) == gold
        accuracy = hits / max(1, len(texts))
        if accuracy > best_accuracy + 1e-9:
            best_weight, best_accuracy = weight, accuracy

    confidences, correct = [], []
    for record, text, item, gold in zip(validation, texts, per_item, gold_dept):
        top = router.route(text, item["sector"], item["department"], None, best_weight, limit=1)
        sector_code = max(item["sector"], key=item["sector"].__getitem__)
        confidences.append(min(item["sector"][sector_code], top[0].confidence if top else 0.0))
        correct.append(sector_code == record.sector and bool(top) and taxonomy.national_department(top[0].code) == gold)
    confidences_arr, correct_arr = np.array(confidences), np.array(correct)
    curve = []
    for threshold in THRESHOLD_GRID:
        auto = confidences_arr >= threshold
        curve.append({"threshold": threshold, "auto_share": round(float(auto.mean()), 4),
                      "auto_accuracy": round(float(correct_arr[auto].mean()) if auto.any() else 1.0, 4)})
    meeting = [point for point in curve if point["auto_accuracy"] >= TARGET_AUTO_ACCURACY]
    review = float(meeting[0]["threshold"] if meeting else THRESHOLD_GRID[-1])

    khan_cap_p = np.array([item["urgency"]["khan_cap"] for item in per_item])
    is_khan_cap = np.array([r.urgency == "khan_cap" for r in validation])
    khan_cap = 0.5
    if is_khan_cap.any():
        for threshold in (0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15):
            khan_cap = threshold
            if (khan_cap_p[is_khan_cap] >= threshold).mean() >= TARGET_KHAN_CAP_RECALL:
                break
    return {"department_model_weight": best_weight, "review": review, "khan_cap": khan_cap,
            "validation": {"department_top1": round(best_accuracy, 4), "review_curve": curve,
                           "records": len(validation)}}


def make_version(records_hash: str, when: datetime) -> str:
    return f"{when.strftime('%Y%m%dT%H%M%SZ')}-{records_hash[:8]}"


def train(models_dir: Path | None = None, corpus_dir: Path | None = None, n_jobs: int = 2,
          set_as_current: bool = True, router: Router | None = None, quiet: bool = False,
          records: list[Record] | None = None,
          split: tuple[list[Record], list[Record]] | None = None) -> TrainResult:
    """Build a bundle and save it under ``models_dir``.

    Data: ``split`` (train, held-out) as given (retraining passes its frozen held-out set), else ``records``
    split by group, else the corpus split by group.
    """
    from training.evaluate import evaluate, write_report

    started = time.perf_counter()
    taxonomy = load_taxonomy()
    router = router or default_router()
    progress = Progress(["corpus", "features", *HEADS, "tuning", "evaluation", "save"], quiet=quiet)
    if split is None:
        if records is None:
            records = load_corpus(taxonomy, corpus_dir) if corpus_dir else load_corpus(taxonomy)
        split = split_by_group(records)
    train_records, test_records = split
    progress.done("corpus", f"{len(train_records)} train / {len(test_records)} held out")

    augmented = augment(train_records)
    fitted = fit_heads(augmented, taxonomy, n_jobs, step=progress.done)
    now = datetime.now(UTC)
    train_hash = data_hash(train_records)
    bundle = ModelBundle(heads=fitted.heads, version=make_version(train_hash, now),
                         trained_at=now.isoformat(timespec="seconds"), data_hash=train_hash,
                         keywords=indicative_keywords(train_records))
    originals = [i for i, r in enumerate(augmented) if not r.variant_of]
    thresholds = tune_thresholds(router, [augmented[i] for i in originals],
                                 {head: fitted.out_of_fold[head][originals] for head in HEADS}, bundle.labels,
                                 taxonomy)
    tuning_report = thresholds.pop("validation")
    bundle.thresholds = thresholds
    progress.done("tuning", f"model weight {thresholds['department_model_weight']}, review < "
                            f"{thresholds['review']}, khan_cap ≥ {thresholds['khan_cap']} (out-of-fold)")
    held_out = [r for r in test_records if not r.variant_of]
    report = evaluate(Triager(bundle, router, taxonomy), held_out, taxonomy)
    report["tuning"] = tuning_report
    bundle.metrics = headline_metrics(report) | {"train_records": len(train_records), "test_records": len(held_out)}
    progress.done("evaluation", _summary(bundle.metrics))

    directory = None
    if models_dir is not None:
        directory = bundle.save(models_dir / bundle.version)
        write_report(report, directory / "report")
        write_manifest_extras(directory, train_records, held_out, bundle)
        if set_as_current:
            set_current(models_dir, directory)
        progress.done("save", str(directory))
    return TrainResult(bundle, directory, train_records, held_out, time.perf_counter() - started, report)


def merge_records(base: list[Record], extra: list[Record]) -> tuple[list[Record], int]:
    """Base records plus extra ones; an extra record whose text duplicates a base one replaces it.
    Returns the merged list and how many base records were replaced."""
    if not extra:
        return list(base), 0
    replaced = {r.text_hash or hash_text(r.text) for r in extra}
    kept = [r for r in base if hash_text(r.text) not in replaced]
    return kept + list(extra), len(base) - len(kept)


def headline_metrics(report: dict) -> dict:
    return {name: report["headline"][name] for name in report["headline"]}


def _summary(metrics: dict) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if isinstance(v, float))


def write_manifest_extras(directory: Path, train_records: list[Record], held_out: list[Record], bundle: ModelBundle) -> None:
    """Training-data manifest and a model card beside the bundle."""
    import json

    manifest = {
        "data_hash": bundle.data_hash,
        "train": {"records": len(train_records), "groups": len({r.group for r in train_records}),
                  "by_source": dict(Counter(r.source for r in train_records)),
                  "by_sector": dict(Counter(r.sector for r in train_records))},
        "held_out": {"records": len(held_out), "ids": sorted(r.id for r in held_out)},
    }
    (directory / "training_data.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    metrics = bundle.metrics
    card = [
        f"# Model card: {bundle.version}",
        "",
        f"Trained {bundle.trained_at} on {len(train_records)} petitions (data hash `{bundle.data_hash}`), "
        f"evaluated on {len(held_out)} held-out originals (split by group, never seen in training).",
        "",
        "## Intended use",
        "First read of citizens' petitions for Vietnamese reception boards and hotlines: suggests sector, "
        "petition type, urgency and departments. An officer decides; `needs_review` marks what must not be "
        "routed without a person.",
        "",
        "## Held-out metrics",
        *[f"- {name}: {value:.3f}" if isinstance(value, float) else f"- {name}: {value}" for name, value in metrics.items()],
        "",
        "## Thresholds (tuned on out-of-fold predictions of the training originals)",
        *[f"- {name}: {value}" for name, value in bundle.thresholds.items()],
        "",
        "## Libraries",
        *[f"- {name} {value}" for name, value in bundle.libraries.items()],
        "",
        "## Limits",
        "Trained on a written corpus, not on real petitions; quality on real intake must be watched through "
        "officers' decisions (`GET /v1/stats`) and retraining. Province-specific departments come from "
        "`data/routing/provinces/`, not from the model.",
    ]
    (directory / "MODEL_CARD.md").write_text("\n".join(card) + "\n", encoding="utf-8")

