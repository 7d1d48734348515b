"""TF-IDF views of a text, concatenated: fitted by scikit-learn, applied without its per-call overhead.

``TfidfViews`` plays the part of ``FeatureUnion([(name, TfidfVectorizer), ...])``: ``fit`` fits ordinary
``TfidfVectorizer``s. ``transform`` uses their own ``transform`` for batches, but for the one to few texts of
an HTTP request it computes the same matrix from their fitted vocabulary and idf in plain Python: the
sklearn route costs ~1.5 ms per call for one short petition (a joblib ``Parallel`` per call in FeatureUnion,
input validation in every step). ``tests/test_features.py`` checks both routes give the same matrix.

Supported vectorizer settings are the ones ``training/pipeline.py`` uses: word analyzer, ``token_pattern``,
``ngram_range``, an optional ``preprocessor`` (else ``lowercase``), ``sublinear_tf``, ``use_idf``, l2 norm.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer


#: From this many texts on, sklearn's own (vectorised) transform is faster than the plain-Python path.
SMALL_BATCH = 16


class TfidfViews(TransformerMixin, BaseEstimator):
    """Concatenation of several word-n-gram TF-IDF vectorizers of the same text."""

    def __init__(self, views: list[tuple[str, TfidfVectorizer]]) -> None:
        self.views = views

    def fit(self, X: Iterable[str], y: object = None) -> TfidfViews:  # noqa: N803 - sklearn naming
        self._fit(list(X), transform=False)
        return self

    def fit_transform(self, X: Iterable[str], y: object = None) -> sp.csr_matrix:  # noqa: N803
        """Fit and transform in one pass per view (``fit`` then ``transform`` would tokenise everything twice)."""
        return self._fit(list(X), transform=True)

    def _fit(self, texts: list[str], transform: bool) -> sp.csr_matrix | None:
        self.fitted_views_ = []
        blocks = []
        for name, vectorizer in self.views:
            _check_supported(name, vectorizer)
            fitted = clone(vectorizer)
            if transform:
                blocks.append(fitted.fit_transform(texts))
            else:
                fitted.fit(texts)
            if hasattr(fitted, "stop_words_"):  # older scikit-learn keeps every pruned n-gram here
                del fitted.stop_words_
            self.fitted_views_.append((name, fitted))
        self._compile()
        if not transform:
            return None
        return sp.hstack(blocks, format="csr", dtype=self.fitted_views_[0][1].dtype)

    def _compile(self) -> None:
        """Per view: (pattern, preprocessor or lowercase, ngram range, vocabulary, idf, sublinear, offset)."""
        self.compiled_ = []
        offset = 0
        for _, vectorizer in self.fitted_views_:
            idf = vectorizer.idf_.astype(np.float64) if vectorizer.use_idf else None
            self.compiled_.append((re.compile(vectorizer.token_pattern), vectorizer.preprocessor,
                                   vectorizer.lowercase, vectorizer.ngram_range, vectorizer.vocabulary_, idf,
                                   vectorizer.sublinear_tf, offset))
            offset += len(vectorizer.vocabulary_)
        self.n_features_out_ = offset

    def transform(self, X: Iterable[str]) -> sp.csr_matrix:  # noqa: N803
        texts = list(X)
        if len(texts) >= SMALL_BATCH:
            dtype = self.fitted_views_[0][1].dtype
            return sp.hstack([vectorizer.transform(texts) for _, vectorizer in self.fitted_views_], format="csr",
                             dtype=dtype)
        return self._transform_small(texts)

    def _transform_small(self, texts: list[str]) -> sp.csr_matrix:
        """The same arithmetic as TfidfVectorizer.transform for one request's few texts: n-grams counted by
        ``Counter`` (in C), only distinct n-grams looked up, weights computed with numpy per view."""
        indptr = [0]
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        stored = 0
        for text in texts:
            for pattern, preprocessor, lowercase, (low, high), vocabulary, idf, sublinear, offset in self.compiled_:
                doc = preprocessor(text) if preprocessor is not None else (text.lower() if lowercase else text)
                tokens = pattern.findall(doc)
                grams = Counter(tokens) if low == 1 else Counter()
                for n in range(max(low, 2), high + 1):
                    grams.update([" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)] if n > 2
                                 else [f"{a} {b}" for a, b in zip(tokens, tokens[1:])])
                found = [(column, count) for gram, count in grams.items()
                         if (column := vocabulary.get(gram)) is not None]
                if not found:
                    continue
                found.sort()
                columns = np.fromiter((column for column, _ in found), dtype=np.int64, count=len(found))
                weights = np.fromiter((count for _, count in found), dtype=np.float64, count=len(found))
                if sublinear:
                    weights = 1.0 + np.log(weights)
                if idf is not None:
                    weights *= idf[columns]
                weights /= math.sqrt(float(weights @ weights)) or 1.0
                indices.append(columns + offset)
                values.append(weights)
                stored += len(found)
            indptr.append(stored)
        dtype = self.fitted_views_[0][1].dtype if self.fitted_views_ else np.float64
        data = np.concatenate(values).astype(dtype) if values else np.zeros(0, dtype=dtype)
        columns = np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, dtype=np.int32)
        return sp.csr_matrix((data, columns, np.asarray(indptr, dtype=np.int64)),
                             shape=(len(texts), self.n_features_out_))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.concatenate([[f"{name}__{feature}" for feature in vectorizer.get_feature_names_out()]
                               for name, vectorizer in self.fitted_views_])


def _check_supported(name: str, vectorizer: TfidfVectorizer) -> None:
    unsupported = {
        "analyzer": vectorizer.analyzer != "word", "stop_words": vectorizer.stop_words is not None,
        "tokenizer": vectorizer.tokenizer is not None, "strip_accents": vectorizer.strip_accents is not None,
        "norm": vectorizer.norm != "l2", "binary": vectorizer.binary, "vocabulary": vectorizer.vocabulary is not None,
    }
    bad = [key for key, is_bad in unsupported.items() if is_bad]
    if bad:
        raise ValueError(f"TfidfViews view {name!r}: settings not supported by the fast transform: {bad}")
