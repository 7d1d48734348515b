"""A sigmoid-calibrated linear classifier in its serving form.

Scoring a petition is one sparse product with a float32 coefficient matrix (classes × features), then one
Platt sigmoid per class, then normalisation so the classes sum to one: the arithmetic of scikit-learn's
``CalibratedClassifierCV(..., method="sigmoid", ensemble=False)``. Holding just these numbers, instead of
scikit-learn's calibrated wrappers (which re-validate their input in ~60 small calls per head), keeps a
single-petition prediction to a fraction of a millisecond. ``training.calibration`` fits them;
``tests/test_calibrated.py`` checks the probabilities against scikit-learn's.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin


class CompiledSigmoidLinear(ClassifierMixin, BaseEstimator):
    """Serving form of a multiclass linear model with per-class sigmoid calibration (see ``from_parts``)."""

    @classmethod
    def from_parts(cls, classes: np.ndarray, coef: np.ndarray, intercept: np.ndarray, slopes: np.ndarray,
                   offsets: np.ndarray) -> CompiledSigmoidLinear:
        """P(class k) ∝ 1 / (1 + exp(slope_k · (x·coef_k + intercept_k) + offset_k))."""
        classes = np.asarray(classes)
        if len(classes) < 3:
            raise ValueError("only multiclass (3+ classes) heads are compiled")
        shapes = {len(classes), coef.shape[0], len(intercept), len(slopes), len(offsets)}
        if len(shapes) != 1:
            raise ValueError("classes, coefficients, intercepts and calibrators must have one row per class")
        model = cls()
        model.classes_ = classes
        model.coef_ = np.asarray(coef, dtype=np.float32)
        model.intercept_ = np.asarray(intercept, dtype=np.float64)
        model.slope_ = np.asarray(slopes, dtype=np.float64)
        model.offset_ = np.asarray(offsets, dtype=np.float64)
        model.n_features_in_ = model.coef_.shape[1]
        return model

    def fit(self, X, y):  # noqa: N803 - sklearn naming
        raise NotImplementedError("fitted by training.calibration and built with from_parts()")

    def decision_function(self, X) -> np.ndarray:  # noqa: N803
        return np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_

    def proba_from_scores(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated, normalised probabilities from decision values (rows: petitions, columns: classes)."""
        calibrated = expit(-(self.slope_ * scores + self.offset_))
        total = calibrated.sum(axis=1, keepdims=True)
        uniform = np.full_like(calibrated, 1 / len(self.classes_))
        return np.divide(calibrated, total, out=uniform, where=total != 0)

    def predict_proba(self, X) -> np.ndarray:  # noqa: N803
        return self.proba_from_scores(self.decision_function(X))

    def predict(self, X) -> np.ndarray:  # noqa: N803
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class StackedHeads:
    """Several compiled heads over the same features, scored with one sparse product (one call instead of
    one per head: for a single petition, the per-call overhead is most of the cost).

    The coefficients are held transposed, features × classes in C order: scipy's sparse-times-dense product
    flattens its dense operand, which copies the whole matrix on every call unless it is C-contiguous
    (``coef_.T`` is not; with scipy 1.17 that copy made one prediction take 14 ms instead of 1).
    """

    def __init__(self, models: dict[str, CompiledSigmoidLinear]) -> None:
        self.models = models
        self.weights = np.ascontiguousarray(np.vstack([model.coef_ for model in models.values()]).T)
        self.intercept = np.concatenate([model.intercept_ for model in models.values()])
        bounds = np.cumsum([0, *(len(model.classes_) for model in models.values())])
        self.slices = {head: slice(start, end) for head, start, end in zip(models, bounds[:-1], bounds[1:])}
        for head, model in models.items():  # each model keeps its rows as a view: the memory is not doubled
            model.coef_ = self.weights[:, self.slices[head]].T

    def predict_proba(self, X) -> dict[str, np.ndarray]:  # noqa: N803
        scores = np.asarray(X @ self.weights, dtype=np.float64) + self.intercept
        return {head: model.proba_from_scores(scores[:, self.slices[head]]) for head, model in self.models.items()}
