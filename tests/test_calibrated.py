import numpy as np
import pytest
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.model_selection import GroupKFold

from service.calibrated import CompiledSigmoidLinear, StackedHeads
from training.calibration import fit_calibrated_heads, new_svc


@pytest.fixture(scope="module")
def problem():
    X, y = make_classification(n_samples=900, n_features=60, n_informative=15, n_classes=5, random_state=0)
    groups = [f"g{i // 3}" for i in range(len(y))]  # three rows per group, like a petition and its variants
    return sparse.csr_matrix(X.astype(np.float32)), y.astype(str), groups


def test_heads_give_scikit_learns_calibrated_probabilities(problem):
    X, y, groups = problem
    ours = fit_calibrated_heads(X, {"head": y}, groups, n_jobs=1)["head"]
    folds = list(GroupKFold(3).split(X, groups=groups))
    reference = CalibratedClassifierCV(new_svc(), method="sigmoid", cv=folds, ensemble=False).fit(X, y)
    np.testing.assert_allclose(ours.model.predict_proba(X), reference.predict_proba(X), atol=1e-4)
    assert list(ours.model.classes_) == list(reference.classes_)
    assert ours.model.coef_.dtype == np.float32 and ours.model.coef_.shape == (5, 60)


def test_out_of_fold_probabilities_come_from_models_that_did_not_see_the_row(problem):
    X, y, groups = problem
    head = fit_calibrated_heads(X, {"head": y}, groups, n_jobs=2)["head"]
    oof, in_sample = head.out_of_fold, head.model.predict_proba(X)
    np.testing.assert_allclose(oof.sum(axis=1), 1.0, atol=1e-9)
    oof_accuracy = (head.model.classes_[oof.argmax(axis=1)] == y).mean()
    in_sample_accuracy = (head.model.classes_[in_sample.argmax(axis=1)] == y).mean()
    assert 0.3 < oof_accuracy < in_sample_accuracy  # better than chance (0.2), worse than on seen rows


def test_heads_are_fitted_in_parallel_with_the_same_result(problem):
    X, y, groups = problem
    labels = {"a": y, "b": np.roll(y, 7)}
    sequential = fit_calibrated_heads(X, labels, groups, n_jobs=1)
    parallel = fit_calibrated_heads(X, labels, groups, n_jobs=2)
    for head in labels:
        np.testing.assert_array_equal(sequential[head].model.coef_, parallel[head].model.coef_)
        np.testing.assert_allclose(sequential[head].out_of_fold, parallel[head].out_of_fold)


def test_binary_heads_are_refused():
    with pytest.raises(ValueError, match="multiclass"):
        CompiledSigmoidLinear.from_parts(np.array(["a", "b"]), np.zeros((2, 3)), np.zeros(2), np.ones(2), np.zeros(2))


def test_stacked_heads_score_like_each_head_alone(problem):
    X, y, groups = problem
    heads = {name: head.model for name, head in
             fit_calibrated_heads(X, {"a": y, "b": np.roll(y, 11)}, groups, n_jobs=1).items()}
    alone = {name: model.predict_proba(X) for name, model in heads.items()}
    stacked = StackedHeads(heads)
    together = stacked.predict_proba(X)
    for name in heads:
        np.testing.assert_allclose(together[name], alone[name], atol=1e-12)
        assert np.shares_memory(heads[name].coef_, stacked.weights)  # rows are views, not copies
    # scipy flattens the dense operand of a sparse product: anything but C order is copied on every call
    assert stacked.weights.flags.c_contiguous
