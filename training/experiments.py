"""``python -m training experiment``: compare feature / classifier choices on the validation split.

Measured on the inner validation split of the training side (``training.split.validation_split``), never on
the held-out test split, so choosing among configurations does not tune to the figures we report. For each
configuration: sector macro-F1 on all validation originals and on those written without diacritics, fit time,
and single-core transform+predict throughput. This is where "does word segmentation earn its cost against
syllable n-grams?" is answered (README, "Design choices").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from service.taxonomy import load_taxonomy
from service.text import VietnameseNormalizer, diacritic_ratio, fold_diacritics
from training.augment import augment
from training.corpus import load_corpus
from training.pipeline import TOKEN_PATTERN
from training.split import split_by_group, validation_split


@dataclass(frozen=True)
class Config:
    name: str
    segment: bool = False
    accented: bool = True
    folded_ngrams: tuple[int, int] = (1, 3)
    chars: tuple[int, int] | None = (2, 5)
    char_features: int = 200_000
    C: float = 0.5
    augmented: bool = True


CONFIGS = (
    Config("shipped: syllables + folded 1-2, C=1.0", chars=None, folded_ngrams=(1, 2), C=1.0),
    Config("word segmentation instead of syllables", chars=None, folded_ngrams=(1, 2), C=1.0, segment=True),
    Config("folded view only", chars=None, folded_ngrams=(1, 2), C=1.0, accented=False),
    Config("+ folded character 2-5-grams", folded_ngrams=(1, 2), C=1.0),
    Config("+ folded character 3-4-grams (30k)", folded_ngrams=(1, 2), C=1.0, chars=(3, 4), char_features=30_000),
    Config("folded 1-3-grams", chars=None, C=1.0),
    Config("C=0.25", chars=None, folded_ngrams=(1, 2), C=0.25),
    Config("no augmentation", chars=None, folded_ngrams=(1, 2), C=1.0, augmented=False),
)

def build(config: Config) -> Pipeline:
    views = []
    if config.accented:
        views.append(("syllables", TfidfVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=(1, 2), min_df=2,
                                                   max_df=0.5, sublinear_tf=True)))
    views.append(("folded", TfidfVectorizer(preprocessor=fold_diacritics, token_pattern=TOKEN_PATTERN,
                                            ngram_range=config.folded_ngrams, min_df=2, max_df=0.5, sublinear_tf=True)))
    if config.chars:
        views.append(("chars", TfidfVectorizer(preprocessor=fold_diacritics, analyzer="char_wb", ngram_range=config.chars,
                                               min_df=3, max_df=0.5, sublinear_tf=True,
                                               max_features=config.char_features)))
    return Pipeline([("normalise", VietnameseNormalizer(segment=config.segment)), ("features", FeatureUnion(views)),
                     ("classify", LinearSVC(C=config.C, class_weight="balanced"))])


def run(configs: tuple[Config, ...] = CONFIGS) -> list[dict]:
    taxonomy = load_taxonomy()
    train, _test = split_by_group(load_corpus(taxonomy))
    fit_part, validation = validation_split(train)
    augmented = augment(fit_part)
    texts = [r.text for r in validation]
    gold = np.array([r.sector for r in validation])
    plain = np.array([diacritic_ratio(t) < 0.05 for t in texts])
    rows = []
    for config in configs:
        pipeline = build(config)
        fit_records = augmented if config.augmented else fit_part
        started = time.perf_counter()
        pipeline.fit([r.text for r in fit_records], [r.sector for r in fit_records])
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        predicted = pipeline.predict(texts)
        per_second = len(texts) / (time.perf_counter() - started)
        rows.append({
            "config": config.name,
            "sector_macro_f1": round(float(f1_score(gold, predicted, average="macro")), 4),
            "no_diacritics_macro_f1": round(float(f1_score(gold[plain], predicted[plain], average="macro")), 4),
            "fit_seconds": round(fit_seconds, 1),
            "petitions_per_second": round(per_second),
        })
        print(f"{rows[-1]['config']:48s} F1 {rows[-1]['sector_macro_f1']:.3f}  no-diacritics "
              f"{rows[-1]['no_diacritics_macro_f1']:.3f}  fit {rows[-1]['fit_seconds']:5.1f}s  "
              f"{rows[-1]['petitions_per_second']:6d}/s", flush=True)
    return rows
