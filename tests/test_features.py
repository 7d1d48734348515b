import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from service.features import TfidfViews
from service.text import fold_diacritics, normalize
from training.pipeline import TOKEN_PATTERN

TEXTS = [normalize(t) for t in [
    "Đường hẻm 12 bị ngập ba ngày, đề nghị nạo vét cống", "duong hem 12 bi ngap 3 ngay r ko ai xu ly",
    "Công ty nợ lương công nhân ba tháng nay", "cong ty no luong 3 thang", "mất điện từ sáng đến giờ",
    "quán karaoke hát đến 2 giờ sáng", "karaoke hat toi 2h sang", "đường đường đường ngập ngập", "", "12 34",
]]


def views():
    return [("syllables", TfidfVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=(1, 2), sublinear_tf=True,
                                          dtype=np.float32)),
            ("folded", TfidfVectorizer(preprocessor=fold_diacritics, token_pattern=TOKEN_PATTERN, ngram_range=(1, 3),
                                       sublinear_tf=True, min_df=1, dtype=np.float32))]


def test_fast_transform_equals_sklearn_feature_union():
    ours = TfidfViews(views()).fit(TEXTS)
    reference = FeatureUnion(views()).fit(TEXTS)
    unseen = TEXTS + ["hoàn toàn mới chưa thấy bao giờ", "ngập ngập ngập"]
    expected = reference.transform(unseen).toarray()
    np.testing.assert_allclose(ours._transform_small(unseen).toarray(), expected, atol=1e-6)  # one request
    np.testing.assert_allclose(ours.transform(unseen * 2).toarray(), np.vstack([expected, expected]), atol=1e-6)
    assert ours.transform(["x"]).shape == (1, ours.n_features_out_)


def test_fit_transform_is_fit_then_transform():
    one_pass = TfidfViews(views()).fit_transform(TEXTS)
    fitted = TfidfViews(views()).fit(TEXTS)
    np.testing.assert_allclose(one_pass.toarray(), fitted.transform(TEXTS).toarray(), atol=1e-6)
    assert one_pass.dtype == np.float32


def test_pickles_without_pruned_vocabulary():
    fitted = TfidfViews(views()).fit(TEXTS)
    restored = pickle.loads(pickle.dumps(fitted))
    assert (restored.transform(TEXTS) != fitted.transform(TEXTS)).nnz == 0
    assert not any(hasattr(v, "stop_words_") for _, v in restored.fitted_views_)


def test_unsupported_settings_are_refused():
    with pytest.raises(ValueError, match="analyzer"):
        TfidfViews([("chars", TfidfVectorizer(analyzer="char"))]).fit(TEXTS)
