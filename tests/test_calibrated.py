import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.svm import LinearSVC

from service.calibrated import CompiledSigmoidLinear


@pytest.mark.parametrize("ensemble", [True, False])
def test_compiled_model_gives_the_calibrated_probabilities(ensemble):
    X, y = make_classification(n_samples=600, n_features=40, n_informative=12, n_classes=5, random_state=0)
    calibrated = CalibratedClassifierCV(LinearSVC(C=0.5), method="sigmoid", cv=3, ensemble=ensemble).fit(X, y)
    compiled = CompiledSigmoidLinear.from_calibrated(calibrated)
    np.testing.assert_allclose(compiled.predict_proba(X), calibrated.predict_proba(X), atol=1e-5)
    assert (compiled.predict(X) == calibrated.predict(X)).mean() > 0.999
    assert compiled.coef_.dtype == np.float32


def test_binary_heads_are_refused():
    X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    calibrated = CalibratedClassifierCV(LinearSVC(), method="sigmoid", cv=3).fit(X, y)
    with pytest.raises(ValueError, match="multiclass"):
        CompiledSigmoidLinear.from_calibrated(calibrated)
