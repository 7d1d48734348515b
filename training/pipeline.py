"""The scikit-learn Pipelines: shared text features, one calibrated linear classifier per head.

Features, chosen with ``python -m training experiment`` on the validation split (README, "Design choices"):
* syllable 1–2-grams of the normalised, accented text: precise when the writer used diacritics;
* syllable 1–2-grams of the diacritic-folded text: the view in which "duong hem bi ngap" and
  "đường hẻm bị ngập" are the same.
Word segmentation (underthesea) and character n-grams both lost on quality and on speed.

Calibration folds are split by group, so a petition and its augmented twins never sit on both sides of a
calibration split (which would make the probabilities over-confident).
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from service.features import TfidfViews
from service.text import VietnameseNormalizer, fold_diacritics

TOKEN_PATTERN = r"(?u)\b\w+\b"
CALIBRATION_FOLDS = 3


def build_features(segment: bool = False) -> Pipeline:
    """Unfitted text → sparse features Pipeline (normalise, then the union of views)."""
    views = [
        ("syllables", TfidfVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=(1, 2), min_df=2, max_df=0.5,
                                      sublinear_tf=True, dtype=np.float32)),
        ("folded_syllables", TfidfVectorizer(preprocessor=fold_diacritics, token_pattern=TOKEN_PATTERN,
                                             ngram_range=(1, 2), min_df=2, max_df=0.5, sublinear_tf=True,
                                             dtype=np.float32)),
    ]
    return Pipeline([("normalise", VietnameseNormalizer(segment=segment)), ("features", TfidfViews(views))])


def build_classifier(groups: list[str], n_jobs: int = 1, C: float = 1.0) -> CalibratedClassifierCV:
    """Linear SVM with sigmoid calibration over group-aware folds."""
    folds = min(CALIBRATION_FOLDS, len(set(groups)))
    return CalibratedClassifierCV(
        LinearSVC(C=C, class_weight="balanced", random_state=0),  # reproducible retraining comparisons
        method="sigmoid",
        cv=_GroupFolds(folds, groups),
        n_jobs=n_jobs,
    )


class _GroupFolds:
    """A CV splitter that splits by the given groups (CalibratedClassifierCV takes no ``groups`` argument
    without metadata routing). Picklable, and reports its own number of splits."""

    def __init__(self, n_splits: int, groups: list[str]) -> None:
        self.n_splits = n_splits
        self.groups = groups

    def split(self, X, y=None, groups=None):  # noqa: N803 - sklearn naming
        yield from GroupKFold(self.n_splits).split(X, y, self.groups)

    def get_n_splits(self, X=None, y=None, groups=None) -> int:  # noqa: N803
        return self.n_splits

    def __getstate__(self) -> dict:
        # The fitted bundle need not carry the training groups.
        return {"n_splits": self.n_splits, "groups": []}


def assemble(features: Pipeline, classifier) -> Pipeline:
    """A complete head: the shared fitted feature steps followed by the head's classifier."""
    return Pipeline([*features.steps, ("classify", classifier)])
