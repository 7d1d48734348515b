"""A fitted sigmoid-calibrated linear classifier, compiled for serving.

``CalibratedClassifierCV(LinearSVC, method="sigmoid")`` averages one calibrated copy per calibration fold;
each copy computes decision values, then runs one sigmoid calibrator per class, each of which re-validates
its input. Per call that is ~60 small sklearn calls per head and ~10 ms of overhead for a single petition.
``CompiledSigmoidLinear`` holds the same numbers — every fold's coefficients stacked in one float32 matrix,
every calibrator's (a, b) in two vectors — and computes the same probabilities with one sparse product.
``training`` converts each head after fitting; ``tests/test_calibrated.py`` checks equality.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV


class CompiledSigmoidLinear(ClassifierMixin, BaseEstimator):
    """Serving form of a fitted multiclass sigmoid-calibrated linear model (built by ``from_calibrated``)."""

    def __init__(self, n_folds: int = 1) -> None:
        self.n_folds = n_folds

    @classmethod
    def from_calibrated(cls, calibrated: CalibratedClassifierCV) -> CompiledSigmoidLinear:
        if calibrated.method != "sigmoid":
            raise ValueError("only sigmoid calibration can be compiled")
        classes = np.asarray(calibrated.classes_)
        if len(classes) < 3:
            raise ValueError("only multiclass (3+ classes) heads are compiled")
        folds = calibrated.calibrated_classifiers_
        coefs, intercepts, slopes, offsets = [], [], [], []
        for fold in folds:
            estimator = fold.estimator
            if list(estimator.classes_) != list(classes):
                raise ValueError("a calibration fold saw a different label set; cannot compile")
            coefs.append(estimator.coef_)
            intercepts.append(estimator.intercept_)
            slopes.append([c.a_ for c in fold.calibrators])
            offsets.append([c.b_ for c in fold.calibrators])
        model = cls(n_folds=len(folds))
        model.classes_ = classes
        model.coef_ = np.vstack(coefs).astype(np.float32)                  # (folds·classes, features)
        model.intercept_ = np.concatenate(intercepts).astype(np.float64)
        model.slope_ = np.concatenate(slopes).astype(np.float64)
        model.offset_ = np.concatenate(offsets).astype(np.float64)
        model.n_features_in_ = model.coef_.shape[1]
        return model

    def fit(self, X, y):  # noqa: N803 - sklearn naming
        raise NotImplementedError("built from a fitted CalibratedClassifierCV with from_calibrated()")

    def predict_proba(self, X) -> np.ndarray:  # noqa: N803
        n_classes = len(self.classes_)
        scores = np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_
        calibrated = expit(-(self.slope_ * scores + self.offset_))
        total = np.zeros((scores.shape[0], n_classes))
        for fold in range(self.n_folds):
            proba = calibrated[:, fold * n_classes:(fold + 1) * n_classes]
            denominator = proba.sum(axis=1, keepdims=True)
            total += np.divide(proba, denominator, out=np.full_like(proba, 1 / n_classes), where=denominator != 0)
        return total / self.n_folds

    def predict(self, X) -> np.ndarray:  # noqa: N803
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
