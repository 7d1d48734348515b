"""Officers' decisions as corpus records, with personal data masked.

``python -m training export-decisions --database-url URL --out FILE.jsonl``. Each decided petition becomes
one record whose labels are the officer's latest decision (officers win over the model). The text is masked
in this process before anything is written: phone, ID numbers, emails and URLs (``service.text``), house and
alley numbers, and person names found by underthesea's named-entity recogniser. The unmasked text never
leaves the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from service.store import Decision, Petition, make_engine, session_factory
from service.taxonomy import Taxonomy
from service.text import mask_personal_data
from training.corpus import Record, hash_text, record_from_dict

NAME_TOKEN = "xxname"
ADDRESS_TOKEN = "xxaddress"
# House numbers and alley numbers: "số 12/3", "nhà số 45B", "sn 7", "hẻm 12", "ngõ 5 ngách 3", "kiệt 40".
_STREET_NUMBER = re.compile(
    r"(?i)(?<!\w)(?:số\s+nhà|nhà\s+số|so\s+nha|nha\s+so|số|so|sn|hẻm|hem|ngõ|ngo|ngách|ngach|kiệt|kiet)"
    r"\s*\d+[\w/-]*"
)


def mask_names(text: str) -> str:
    """Replace person names (underthesea NER, B-PER/I-PER) with a placeholder."""
    from underthesea import ner

    names: list[str] = []
    current: list[str] = []
    for word, _pos, _chunk, tag in ner(text):
        if tag in ("B-PER", "I-PER") and (tag == "I-PER" or not current):
            current.append(word)
            continue
        if current:
            names.append(" ".join(current))
            current = []
        if tag == "B-PER":
            current.append(word)
    if current:
        names.append(" ".join(current))
    for name in sorted(set(names), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", NAME_TOKEN, text)
    return text


def mask_text(text: str) -> str:
    """Everything personal the export masks: contact data, street numbers, then person names (NER)."""
    return mask_names(_STREET_NUMBER.sub(ADDRESS_TOKEN, mask_personal_data(text)))


@dataclass
class ExportSummary:
    decided: int = 0
    exported: int = 0
    skipped: list[str] = field(default_factory=list)


def iter_decided(database_url: str, batch: int = 500) -> Iterator[tuple[Petition, Decision]]:
    """Every petition with at least one decision, with its latest decision, streamed in batches."""
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            decided = select(Petition).where(Petition.decisions.any()).order_by(Petition.received_at, Petition.id)
            for petition in session.scalars(decided.options(selectinload(Petition.decisions))
                                            .execution_options(yield_per=batch)):
                yield petition, petition.decisions[-1]
    finally:
        engine.dispose()


def export_decisions(database_url: str, taxonomy: Taxonomy) -> tuple[list[Record], ExportSummary]:
    records: list[Record] = []
    summary = ExportSummary()
    for petition, decision in iter_decided(database_url):
        summary.decided += 1
        record_id = f"decision-{petition.id}"
        candidate = {
            "id": record_id, "group": record_id, "text": mask_text(petition.text),
            "channel": petition.channel or "web", "sector": decision.sector, "petition_type": decision.petition_type,
            "urgency": decision.urgency,
            # Training labels use national codes; province-specific departments come from routing config.
            "department": taxonomy.national_department(decision.department)
            if decision.department in taxonomy.departments else decision.department,
            "province": petition.province,
            "text_hash": hash_text(petition.text),
        }
        record, errors = record_from_dict({k: v for k, v in candidate.items() if v is not None}, taxonomy)
        if record is None:
            summary.skipped.append(f"{record_id}: {'; '.join(errors)}")
            continue
        record.source = "decision"
        records.append(record)
        summary.exported += 1
    return records, summary


def write_records(records: list[Record], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record.to_json() + "\n")


def summary_json(summary: ExportSummary) -> str:
    return json.dumps({"decided": summary.decided, "exported": summary.exported, "skipped": summary.skipped},
                      ensure_ascii=False)
