"""Text in, ``Triage`` out: the one entry point the API, the batch CLI and the benchmarks share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pathlib import Path

from service.flags import HandlingFlag, handling_flags
from service.location import Location, find_location
from service.model import ModelBundle, current_bundle_dir, load_bundle
from service.routing import DepartmentSuggestion, Router, default_router
from service.taxonomy import Taxonomy, load_taxonomy
from service.text import fold_diacritics

#: Used when a bundle carries no tuned threshold (older bundles, tests with tiny data).
DEFAULT_REVIEW_THRESHOLD = 0.6
MAX_KEYWORDS = 8
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class LabelScore:
    code: str
    name: str
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "confidence": round(self.confidence, 4)}


@dataclass(frozen=True)
class Triage:
    sector: LabelScore
    sector_candidates: list[LabelScore]
    petition_type: LabelScore
    urgency: LabelScore
    departments: list[DepartmentSuggestion]
    location: Location | None
    needs_review: bool
    keywords: list[str]
    flags: list[HandlingFlag]
    model_version: str

    def as_dict(self) -> dict[str, Any]:
        """The result shape shared by the batch CLI and the API."""
        return {
            "sector": self.sector.as_dict(),
            "sector_candidates": [c.as_dict() for c in self.sector_candidates],
            "petition_type": self.petition_type.as_dict(),
            "urgency": self.urgency.as_dict(),
            "departments": [d.as_dict() for d in self.departments],
            "location": self.location.as_dict() if self.location else None,
            "needs_review": self.needs_review,
            "keywords": self.keywords,
            "flags": [f.as_dict() for f in self.flags],
            "model_version": self.model_version,
        }


class Triager:
    """A loaded bundle with its router; immutable after construction, so one instance serves all threads."""

    def __init__(self, bundle: ModelBundle, router: Router, taxonomy: Taxonomy,
                 review_threshold: float | None = None) -> None:
        bundle.check_labels(taxonomy)
        self.bundle = bundle
        self.router = router
        self.taxonomy = taxonomy
        self.review_threshold = (review_threshold if review_threshold is not None
                                 else bundle.thresholds.get("review", DEFAULT_REVIEW_THRESHOLD))
        self.khan_cap_threshold = bundle.thresholds.get("khan_cap")
        self.model_weight = bundle.thresholds.get("department_model_weight", 0.5)
        self._keywords = bundle.keywords
        self._labels = bundle.labels  # computed once: the bundle never changes under a Triager

    @property
    def version(self) -> str:
        return self.bundle.version

    def triage(self, text: str, province: str | None = None, channel: str | None = None) -> Triage:
        return self.triage_many([text], [province], [channel])[0]

    def triage_many(self, texts: Sequence[str], provinces: Sequence[str | None] | None = None,
                    channels: Sequence[str | None] | None = None) -> list[Triage]:
        """Triage several texts in one vectorised pass. Empty text is the caller's error: ValueError.

        ``provinces`` (the intake office's, used when a text names none) and ``channels`` (which only the
        handling flags use) are per text; None where unknown.
        """
        if any(not isinstance(t, str) or not t.strip() for t in texts):
            raise ValueError("text must be a non-empty string")
        provinces = list(provinces) if provinces is not None else [None] * len(texts)
        channels = list(channels) if channels is not None else [None] * len(texts)
        probabilities = self.bundle.predict_proba(list(texts))
        labels = self._labels
        return [self._one(text, province, channel, {head: dict(zip(labels[head], probabilities[head][i]))
                                                    for head in probabilities})
                for i, (text, province, channel) in enumerate(zip(texts, provinces, channels))]

    def _one(self, text: str, province: str | None, channel: str | None,
             probs: dict[str, dict[str, float]]) -> Triage:
        ranked_sectors = sorted(probs["sector"].items(), key=lambda item: item[1], reverse=True)
        candidates = [self._label("sector", code, p) for code, p in ranked_sectors[:3]]
        location = find_location(text, province)
        departments = self.router.route(text, probs["sector"], probs["department"], location, self.model_weight)
        urgency_code, urgency_p = _argmax(probs["urgency"])
        if self.khan_cap_threshold is not None and probs["urgency"].get("khan_cap", 0.0) >= self.khan_cap_threshold:
            urgency_code, urgency_p = "khan_cap", probs["urgency"]["khan_cap"]
        petition_type = self._label("petition_type", *_argmax(probs["petition_type"]))
        unsure = (candidates[0].confidence < self.review_threshold
                  or not departments or departments[0].confidence < self.review_threshold)
        return Triage(
            sector=candidates[0],
            sector_candidates=candidates,
            petition_type=petition_type,
            urgency=self._label("urgency", urgency_code, urgency_p),
            departments=departments,
            location=location,
            needs_review=bool(unsure),  # numpy comparisons give numpy.bool_, which JSON cannot encode
            keywords=self._keywords_for(text, candidates[0].code),
            flags=handling_flags(text, petition_type.code, probs["petition_type"], channel),
            model_version=self.bundle.version,
        )

    def _label(self, head: str, code: str, confidence: float) -> LabelScore:
        return LabelScore(code, self.taxonomy.name(head, code), float(confidence))

    def _keywords_for(self, text: str, sector: str) -> list[str]:
        """Words and word pairs of the text that are most indicative of the chosen sector (learnt at training).

        The text is folded once; folding maps each character to one character, so positions in the folded
        text are positions in the original and the accented phrase can be shown.
        """
        weights = self._keywords.get(sector)
        if not weights:
            return []
        lowered = text.lower()
        folded = fold_diacritics(lowered)
        if len(folded) != len(lowered):  # pragma: no cover - folding is 1:1 on NFC text
            lowered = folded
        spans = [match.span() for match in _LETTERS.finditer(folded)]
        found: dict[str, float] = {}
        for i, (start, end) in enumerate(spans):
            weight = weights.get(folded[start:end])
            if weight is not None:
                found.setdefault(lowered[start:end], weight)
            if i + 1 < len(spans):
                next_start, next_end = spans[i + 1]
                if folded[end:next_start].isspace():
                    weight = weights.get(f"{folded[start:end]} {folded[next_start:next_end]}")
                    if weight is not None:
                        found.setdefault(f"{lowered[start:end]} {lowered[next_start:next_end]}", weight)
        chosen: list[str] = []
        for phrase, _ in sorted(found.items(), key=lambda item: item[1], reverse=True):
            if not any(phrase in other or other in phrase for other in chosen):
                chosen.append(phrase)
                if len(chosen) == MAX_KEYWORDS:
                    break
        return chosen


def _argmax(probs: dict[str, float]) -> tuple[str, float]:
    code = max(probs, key=probs.__getitem__)
    return code, float(probs[code])



def load_triager(models_dir: Path, bundle_dir: Path | None = None, review_threshold: float | None = None) -> Triager:
    """The triager for ``bundle_dir`` or, by default, for the bundle ``models/CURRENT`` names."""
    taxonomy = load_taxonomy()
    bundle = load_bundle(bundle_dir or current_bundle_dir(models_dir), taxonomy)
    return Triager(bundle, default_router(), taxonomy, review_threshold)
