"""The labelled corpus: loading, validation against the taxonomy, duplicates, distribution.

Records are JSONL lines: ``id, group, text, channel, sector, petition_type, urgency, department`` and
optional ``province``, ``commune``, ``variant_of``. ``group`` is shared by an original and all its variants
(augmentation, officers' re-submissions) so that splits never put one story on both sides.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from service import DATA_DIR
from service.location import resolve_province
from service.taxonomy import HEADS, Taxonomy
from service.text import diacritic_ratio, fold_diacritics, normalize

CORPUS_DIR = DATA_DIR / "corpus"
REQUIRED = ("id", "text", "channel", *HEADS)
#: Cosine similarity of folded character n-grams above which two originals count as near duplicates.
NEAR_DUPLICATE_SIMILARITY = 0.9


@dataclass
class Record:
    id: str
    text: str
    channel: str
    sector: str
    petition_type: str
    urgency: str
    department: str
    group: str = ""
    province: str | None = None
    commune: str | None = None
    variant_of: str | None = None
    #: For exported decisions: hash of the original (unmasked) text, to find the corpus record it duplicates.
    text_hash: str | None = None
    source: str = field(default="corpus", compare=False)

    def __post_init__(self) -> None:
        self.group = self.group or self.id

    def label(self, head: str) -> str:
        return getattr(self, head)

    def to_json(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v is not None and k != "source"}
        return json.dumps(data, ensure_ascii=False)


@dataclass
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def read_jsonl(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, object or None, error or None) for each non-blank line."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"invalid JSON ({exc.msg})"
                continue
            if not isinstance(obj, dict):
                yield number, None, "not a JSON object"
                continue
            yield number, obj, None


def record_from_dict(obj: dict, taxonomy: Taxonomy) -> tuple[Record | None, list[str]]:
    """Build a record and list what is wrong with it against the taxonomy."""
    errors = [f"missing field '{name}'" for name in REQUIRED if not str(obj.get(name) or "").strip()]
    if errors:
        return None, errors
    if obj["channel"] not in taxonomy.channels:
        errors.append(f"unknown channel {obj['channel']!r}")
    for head in HEADS:
        if obj[head] not in taxonomy.all_codes(head):
            errors.append(f"unknown {head} {obj[head]!r}")
    if obj.get("department") in taxonomy.departments:
        # A province-specific department (Sở Du lịch in Hà Nội) and its national fallback are equivalent
        # (taxonomy.md): the models learn national codes and routing swaps the local one in per province.
        obj = {**obj, "department": taxonomy.national_department(obj["department"])}
    if obj.get("province") and resolve_province(obj["province"]) is None:
        errors.append(f"unknown province {obj['province']!r}")
    known = {f for f in Record.__dataclass_fields__ if f != "source"}
    record = Record(**{k: (str(v) if k in REQUIRED or k == "group" else v) for k, v in obj.items() if k in known})
    return (None if errors else record), errors


def load_records(paths: Iterable[Path], taxonomy: Taxonomy) -> tuple[list[Record], list[Problem]]:
    records: list[Record] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in paths:
        for number, obj, error in read_jsonl(path):
            where = f"{path.name}:{number}"
            if error:
                problems.append(Problem(where, error))
                continue
            record, errors = record_from_dict(obj, taxonomy)
            problems.extend(Problem(where, e) for e in errors)
            if record is None:
                continue
            if record.id in seen:
                problems.append(Problem(where, f"duplicate id {record.id!r} (first in {seen[record.id]})"))
                continue
            seen[record.id] = where
            records.append(record)
    return records, problems


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def load_corpus(taxonomy: Taxonomy, directory: Path = CORPUS_DIR) -> list[Record]:
    """Every valid record of the corpus; raises ValueError listing the problems if any record is invalid."""
    records, problems = load_records(corpus_files(directory), taxonomy)
    if problems:
        listed = "\n  ".join(map(str, problems[:20]))
        raise ValueError(f"{len(problems)} invalid corpus records (run 'python -m training validate'):\n  {listed}")
    return records


def data_hash(records: Iterable[Record]) -> str:
    """Order-independent hash of texts and labels: names the training data a bundle was built from."""
    digest = hashlib.sha256()
    for line in sorted(r.to_json() for r in records):
        digest.update(line.encode("utf-8"))
    return digest.hexdigest()[:16]


def hash_text(text: str) -> str:
    """Identity of a petition text across case, diacritics and spacing; reveals nothing of the text."""
    key = " ".join(fold_diacritics(text.lower()).split())
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def exact_duplicates(records: list[Record]) -> list[tuple[str, str]]:
    """Pairs of originals whose normalised, folded texts are identical."""
    first: dict[str, str] = {}
    pairs = []
    for record in records:
        key = " ".join(fold_diacritics(normalize(record.text)).split())
        if key in first:
            pairs.append((first[key], record.id))
        else:
            first[key] = record.id
    return pairs


def near_duplicates(records: list[Record], threshold: float = NEAR_DUPLICATE_SIMILARITY) -> list[tuple[str, str, float]]:
    """Pairs of different groups whose folded character 4-gram TF-IDF vectors have cosine ≥ ``threshold``."""
    if len(records) < 2:
        return []
    texts = [fold_diacritics(normalize(r.text)) for r in records]
    matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), sublinear_tf=True).fit_transform(texts)
    similarity = (matrix @ matrix.T).tocoo()
    pairs = []
    for i, j, value in zip(similarity.row, similarity.col, similarity.data):
        if i < j and value >= threshold and records[i].group != records[j].group:
            pairs.append((records[i].id, records[j].id, float(value)))
    return sorted(pairs, key=lambda p: -p[2])


def distribution(records: list[Record]) -> dict[str, Counter]:
    return {name: Counter(getattr(r, name) for r in records) for name in ("channel", *HEADS)}


def diacritic_free_share(records: list[Record]) -> float:
    if not records:
        return 0.0
    return float(np.mean([diacritic_ratio(r.text) < 0.05 for r in records]))
