"""The scikit-learn Pipelines: shared text features, one calibrated linear classifier per head.

Features, chosen with ``python -m training experiment`` on the validation split (README, "Design choices"):
* syllable 1–2-grams of the normalised, accented text: precise when the writer used diacritics;
* syllable 1–2-grams of the diacritic-folded text: the view in which "duong hem bi ngap" and
  "đường hẻm bị ngập" are the same.
Word segmentation (underthesea) and character n-grams both lost on quality and on speed.

The classifier of each head and its calibration are in ``training.calibration``.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from service.features import TfidfViews
from service.text import VietnameseNormalizer, fold_diacritics

TOKEN_PATTERN = r"(?u)\b\w+\b"


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


def assemble(features: Pipeline, classifier) -> Pipeline:
    """A complete head: the shared fitted feature steps followed by the head's classifier."""
    return Pipeline([*features.steps, ("classify", classifier)])
