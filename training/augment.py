"""Variants of corpus petitions in the ways citizens actually type them.

Each variant keeps its original's labels and ``group`` (so no split separates them) and gets
``variant_of``. Variants are derived deterministically from the record id, so a rebuild is reproducible.
Only training data is augmented; evaluation uses originals (plus, separately reported, folded twins).
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import replace

from service.text import diacritic_ratio, fold_diacritics
from training.corpus import Record

# Accented word → how people shorten it in SMS / Zalo (the inverse of data/teencode.yaml's common entries).
_TEENCODE = {
    "không": ["ko", "k", "hok", "khong", "kg"], "được": ["dc", "đc", "duoc"], "gì": ["j", "gi"],
    "rồi": ["r", "roi", "rùi"], "người": ["ng", "nguoi"], "cũng": ["cx", "cung"], "trước": ["trc", "truoc"],
    "thời gian": ["tg"], "như thế nào": ["ntn"], "em": ["e"], "anh": ["a"], "chị": ["c"], "với": ["vs"],
    "số điện thoại": ["sdt", "sđt"], "bây giờ": ["bh", "bjo"], "quá": ["qa", "wa"], "làm": ["lm"],
    "mình": ["mk", "mik"], "nước": ["nc", "nuoc"], "đường": ["đg", "duong"], "công ty": ["cty"],
    "phường": ["P.", "p"], "quận": ["Q.", "q"], "ủy ban nhân dân": ["UBND", "ubnd"],
}
_TEENCODE_PATTERN = re.compile("|".join(sorted(map(re.escape, _TEENCODE), key=len, reverse=True)), re.IGNORECASE)
_FILLERS = ["à", "ờ", "dạ", "thì là", "cái này", "ừm", "vâng", "à thì", "alo"]
_PUNCTUATION = re.compile(r"[.,;:!?()\"'“”\[\]\-–]+")


def _rng(record: Record, salt: str) -> random.Random:
    return random.Random(zlib.crc32(f"{record.id}:{salt}".encode()))


def fold_variant(record: Record) -> Record:
    """The same text without diacritics, as typed on a phone with no Vietnamese keyboard."""
    return _variant(record, "fold", fold_diacritics(record.text))


def teencode_variant(record: Record) -> Record:
    """Teencode, typos, lowercase, no diacritics: the SMS / Zalo register."""
    rng = _rng(record, "teen")

    def shorten(match: re.Match[str]) -> str:
        options = _TEENCODE.get(match.group().lower())
        return rng.choice(options) if options and rng.random() < 0.7 else match.group()

    text = _TEENCODE_PATTERN.sub(shorten, record.text)
    if rng.random() < 0.85:
        text = fold_diacritics(text)
    if rng.random() < 0.7:
        text = text.lower()
    return _variant(record, "teen", _typos(text, rng, rate=0.03))


def transcript_variant(record: Record) -> Record:
    """Speech-to-text style: lowercase, no punctuation, fillers and a repeated word here and there."""
    rng = _rng(record, "asr")
    words = _PUNCTUATION.sub(" ", record.text.lower()).split()
    out: list[str] = []
    for word in words:
        if rng.random() < 0.06:
            out.append(rng.choice(_FILLERS))
        out.append(word)
        if rng.random() < 0.03:
            out.append(word)
    return _variant(record, "asr", " ".join(out))


def _typos(text: str, rng: random.Random, rate: float) -> str:
    chars = list(text)
    for i in range(len(chars) - 1):
        if chars[i].isalpha() and rng.random() < rate:
            kind = rng.random()
            if kind < 0.4:
                chars[i] = ""                                   # dropped letter
            elif kind < 0.8:
                chars[i], chars[i + 1] = chars[i + 1], chars[i]  # swapped letters
            else:
                chars[i] = chars[i] * 2                          # doubled letter
    return "".join(chars)


def _variant(record: Record, kind: str, text: str) -> Record:
    return replace(record, id=f"{record.id}~{kind}", text=text, group=record.group, variant_of=record.id)


def augment(records: list[Record]) -> list[Record]:
    """Originals plus their variants: accented texts get a folded and an SMS-style twin; texts already
    without diacritics get a noisier SMS-style twin; hotline summaries and web forms a transcript twin."""
    out: list[Record] = []
    for record in records:
        out.append(record)
        if record.variant_of:
            continue
        if diacritic_ratio(record.text) >= 0.05:
            out.append(fold_variant(record))
        out.append(teencode_variant(record))
        if record.channel in ("hotline", "web"):
            out.append(transcript_variant(record))
    return out
