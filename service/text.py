"""Vietnamese text normalisation for petitions.

One chain, the same in training and serving (it runs inside the fitted Pipeline through
``VietnameseNormalizer``):

1. Unicode NFC and one tone-mark convention ("hoá" → "hóa", "baỏ" → "bảo"): underthesea's token rules.
2. Masking of URLs, emails, phone and ID numbers: personal data must not become a feature, and a model that
   learnt "0912…" would not generalise to the next caller.
3. Case-sensitive abbreviations ("CA" = công an), then lowercasing, punctuation clean-up and teencode /
   abbreviation expansion ("ko dc" → "không được", "GPXD" → "giấy phép xây dựng"): underthesea_core's
   ``TextPreprocessor`` (Rust) with this project's table from ``data/teencode.yaml``.

``fold_diacritics`` then gives the accent-free view used by the features, so that a message typed without
diacritics lands next to its accented twin. ``segment_words`` (underthesea's CRF word segmenter) is kept
for the comparison in ``training/experiments.py``; the shipped pipeline uses syllable n-grams, which won
on both quality and speed (see README).
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import joblib
import yaml
from sklearn.base import BaseEstimator, TransformerMixin

from service import DATA_DIR

TEENCODE_PATH = DATA_DIR / "teencode.yaml"

# Placeholders are plain lowercase words so that no later step (punctuation clean-up, tokenisers) eats them.
URL_TOKEN = "xxurl"
EMAIL_TOKEN = "xxemail"
PHONE_TOKEN = "xxphone"
ID_TOKEN = "xxidnumber"

_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:vn|com|net|org|gov\.vn)(?:/\S*)?\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Vietnamese mobile / landline numbers, written with spaces, dots or dashes between digit groups, with or
# without +84 / 84. Checked before ID numbers so that "0912 345 678" is a phone, not three numbers.
_PHONE = re.compile(r"(?<![\w.])(?:\+?84[\s.-]?|0)(?:\d[\s.-]?){8,9}\d(?![\w])")
# CCCD (12 digits) and old CMND (9 digits); also passport-like letter + 7-8 digits.
_ID_NUMBER = re.compile(r"(?<![\w.])(?:\d{12}|\d{9}|[A-Z]\d{7,8})(?![\w])")
_WORD = re.compile(r"\w+")
# Cheap pre-checks: most petitions hold no URL, and no number long enough to be a phone or ID number.
_URL_HINT = re.compile(r"(?i)https?://|www\.|\.(?:vn|com|net|org)\b")
_DIGIT_RUN = re.compile(r"\d[\d\s.-]{7,}\d|[A-Z]\d{7}")


def _fold_table() -> dict[int, str]:
    """Translation table removing Vietnamese diacritics, built once from Unicode data (no hand list)."""
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    for code_point in range(0x00C0, 0x1EFF + 1):
        char = chr(code_point)
        base = unicodedata.normalize("NFD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            table[code_point] = base
    return table


_FOLD = _fold_table()


def fold_diacritics(text: str) -> str:
    """'Đường ngập' → 'Duong ngap'. Module-level so fitted vectorizers that use it unpickle."""
    return text.translate(_FOLD)


def has_diacritics(text: str) -> bool:
    """True when any Vietnamese accented letter occurs: used to split evaluation by writing style."""
    return fold_diacritics(text) != text


def diacritic_ratio(text: str) -> float:
    """Share of letters carrying a diacritic; ~0 for SMS typed without accents, ~0.3-0.5 for accented text."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if ord(c) in _FOLD) / len(letters)


def underthesea_data(relative: str) -> Path:
    """A data file shipped inside the underthesea package, found without importing the package: its
    ``__init__`` pulls in requests, huggingface_hub and more (0.3 s and ~50 MB per worker) that serving
    does not need."""
    spec = importlib.util.find_spec("underthesea")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("underthesea is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / relative


# underthesea's text_normalize rules (the file its TextNormalizer loads): a character map (Ð → Đ) and a
# token map of misplaced tone marks ("hoá" → "hóa", "baỏ" → "bảo"; keys of at most 6 characters).
_RULES = joblib.load(underthesea_data("pipeline/text_normalize/tn_rules_2023_07_14.bin"))
_CHARACTER_TABLE = str.maketrans(dict(_RULES["character"]))
_TOKEN_MAP: dict[str, str] = dict(_RULES["token"])
_TOKEN_KEYS = frozenset(_TOKEN_MAP)


def normalize_unicode(text: str) -> str:
    """NFC, then underthesea's text_normalize rules for characters and one tone-mark placement.

    underthesea's own ``text_normalize`` re-tokenises with a slow regex (~2.5 ms per 2,000 characters); most
    petitions contain no misplaced tone mark at all, so the rules are applied only when one of their keys
    occurs (one set intersection in C), with the same result.
    """
    text = unicodedata.normalize("NFC", text).translate(_CHARACTER_TABLE)
    if _TOKEN_KEYS.isdisjoint(_WORD.findall(text)):
        return text
    return _WORD.sub(lambda match: _TOKEN_MAP.get(match.group(), match.group()), text)


def mask_personal_data(text: str) -> str:
    """Replace URLs, emails, phone and ID numbers with placeholder words."""
    if "@" in text:  # before URLs: "an@gmail.com" is an email, not "an@" + a domain
        text = _EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    if _URL_HINT.search(text):
        text = _URL.sub(f" {URL_TOKEN} ", text)
    if _DIGIT_RUN.search(text):
        text = _PHONE.sub(f" {PHONE_TOKEN} ", text)
        text = _ID_NUMBER.sub(f" {ID_TOKEN} ", text)
    return text


@lru_cache(maxsize=4)
def load_teencode(path: Path = TEENCODE_PATH) -> dict[str, dict[str, str]]:
    """The expansion tables: ``teencode`` and ``abbreviations`` (lowercase keys), ``case_sensitive``."""
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return {section: {str(k): str(v) for k, v in (raw.get(section) or {}).items()} for section in raw}


def _token_pattern(keys: Iterable[str], flags: int = 0) -> re.Pattern[str] | None:
    """One alternation matching any of ``keys`` as a whole token, longest first."""
    keys = sorted(keys, key=len, reverse=True)
    if not keys:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, keys))})(?!\w)", flags)


_TRIPLE_LETTER = re.compile(r"(\w)\1\1")


class TextNormalizer:
    """The normalisation chain with its tables bound; cheap to call, safe to share between threads."""

    def __init__(self, expansions: Mapping[str, str], case_sensitive: Mapping[str, str]) -> None:
        import underthesea_core

        self._case_sensitive = dict(case_sensitive)
        self._case_pattern = _token_pattern(self._case_sensitive)
        # The preprocessor collapses "ccc" to "cc" before its teencode lookup, so keys with a tripled letter
        # ("cccd") are expanded here first, case-insensitively.
        self._tripled = {k: v for k, v in expansions.items() if _TRIPLE_LETTER.search(k)}
        self._tripled_pattern = _token_pattern(self._tripled, re.IGNORECASE)
        self._preprocessor = underthesea_core.TextPreprocessor(
            lowercase=True,
            unicode_normalize=True,
            remove_urls=False,  # already masked, and the placeholder is a feature
            normalize_repeated_chars=True,
            normalize_punctuation=True,
            teencode=dict(expansions),
            negation_words=[],
            negation_window=0,
            use_defaults=False,  # its default table is for product reviews ("sp" = sản phẩm)
        )

    def __call__(self, text: str) -> str:
        text = mask_personal_data(normalize_unicode(text))
        if self._case_pattern is not None:
            text = self._case_pattern.sub(lambda m: self._case_sensitive[m.group()], text)
        if self._tripled_pattern is not None:
            text = self._tripled_pattern.sub(lambda m: self._tripled[m.group().lower()], text)
        return self._preprocessor.transform(text)


@lru_cache(maxsize=1)
def default_normalizer() -> TextNormalizer:
    tables = load_teencode()
    return TextNormalizer({**tables.get("teencode", {}), **tables.get("abbreviations", {})},
                          tables.get("case_sensitive", {}))


def normalize(text: str) -> str:
    """The whole chain with the project's tables: what the features of a fresh model are built from."""
    return default_normalizer()(text)


def segment_words(text: str) -> str:
    """underthesea word segmentation, multi-syllable words joined by '_' ("xử_lý")."""
    from underthesea import word_tokenize

    return word_tokenize(text, format="text")


class VietnameseNormalizer(TransformerMixin, BaseEstimator):
    """sklearn step: raw petition texts → normalised texts.

    The expansion tables are parameters, so a saved bundle carries the tables it was trained with and
    serving sees exactly what training saw. ``None`` means "the project's current tables", resolved at fit.
    """

    def __init__(self, expansions: dict[str, str] | None = None,
                 case_sensitive: dict[str, str] | None = None, segment: bool = False) -> None:
        self.expansions = expansions
        self.case_sensitive = case_sensitive
        self.segment = segment

    def fit(self, X: Iterable[str], y: object = None) -> VietnameseNormalizer:
        tables = load_teencode()
        self.expansions_ = dict(self.expansions if self.expansions is not None else
                                {**tables.get("teencode", {}), **tables.get("abbreviations", {})})
        self.case_sensitive_ = dict(self.case_sensitive if self.case_sensitive is not None else
                                    tables.get("case_sensitive", {}))
        self.n_features_in_ = 1
        return self

    def _normalizer(self) -> TextNormalizer:
        # The Rust preprocessor does not pickle: rebuilt lazily after unpickling.
        normalizer = self.__dict__.get("_normalizer_cache")
        if normalizer is None:
            normalizer = TextNormalizer(self.expansions_, self.case_sensitive_)
            self.__dict__["_normalizer_cache"] = normalizer
        return normalizer

    def transform(self, X: Iterable[str]) -> list[str]:
        normalizer = self._normalizer()
        texts = [normalizer(str(text)) for text in X]
        if self.segment:
            texts = [segment_words(text) for text in texts]
        return texts

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_normalizer_cache", None)
        return state

    def __sklearn_tags__(self):  # noqa: D105 - sklearn API
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
