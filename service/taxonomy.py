"""Typed, cached access to ``data/taxonomy.yaml``.

The taxonomy is the contract between the corpus, the models, routing and the API; every label list in the
code comes from here so that a change of the contract is one edit of one data file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from service import DATA_DIR

TAXONOMY_PATH = DATA_DIR / "taxonomy.yaml"

#: The four classification heads, in the order results present them.
HEADS: tuple[str, ...] = ("sector", "petition_type", "urgency", "department")


@dataclass(frozen=True)
class Label:
    code: str
    name: str


@dataclass(frozen=True)
class Sector(Label):
    default_department: str = ""


@dataclass(frozen=True)
class Deadline:
    days: int
    working_days: bool
    start: str  # "received" or the name of an earlier deadline


@dataclass(frozen=True)
class PetitionType(Label):
    legal_basis: str = ""
    deadlines: dict[str, Deadline] = field(default_factory=dict)


@dataclass(frozen=True)
class Department(Label):
    level: str = "province"
    province_specific: bool = False
    fallback: str | None = None


@dataclass(frozen=True)
class Status(Label):
    open: bool = True
    next: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    version: int
    channels: dict[str, Label]
    sectors: dict[str, Sector]
    petition_types: dict[str, PetitionType]
    urgency_levels: dict[str, Label]
    departments: dict[str, Department]
    statuses: dict[str, Status] = field(default_factory=dict)

    def labels(self, head: str) -> list[str]:
        """Codes a classification head may predict, in taxonomy order.

        Province-specific departments are left out of the department head: the corpus labels them by their
        national fallback, and routing swaps them in per province.
        """
        if head == "sector":
            return list(self.sectors)
        if head == "petition_type":
            return list(self.petition_types)
        if head == "urgency":
            return list(self.urgency_levels)
        if head == "department":
            return [code for code, dept in self.departments.items() if not dept.province_specific]
        raise KeyError(f"unknown head {head!r}; heads are {HEADS}")

    def all_codes(self, head: str) -> set[str]:
        """Every code valid for ``head`` in stored data (department includes province-specific ones)."""
        if head == "department":
            return set(self.departments)
        return set(self.labels(head))

    def name(self, head: str, code: str) -> str:
        table = {
            "sector": self.sectors,
            "petition_type": self.petition_types,
            "urgency": self.urgency_levels,
            "department": self.departments,
            "channel": self.channels,
            "status": self.statuses,
        }[head]
        return table[code].name

    def national_department(self, code: str) -> str:
        """The department code with province-specific ones mapped to their national fallback."""
        dept = self.departments[code]
        return dept.fallback if dept.province_specific and dept.fallback else code


def _parse(raw: dict) -> Taxonomy:
    def deadlines(spec: dict) -> dict[str, Deadline]:
        return {
            step: Deadline(days=int(d["days"]), working_days=bool(d["working_days"]), start=d["from"])
            for step, d in (spec or {}).items()
        }

    return Taxonomy(
        version=int(raw["version"]),
        channels={c["code"]: Label(c["code"], c["name"]) for c in raw["channels"]},
        sectors={s["code"]: Sector(s["code"], s["name"], s["default_department"]) for s in raw["sectors"]},
        petition_types={
            p["code"]: PetitionType(p["code"], p["name"], p.get("legal_basis", ""), deadlines(p.get("deadlines")))
            for p in raw["petition_types"]
        },
        urgency_levels={u["code"]: Label(u["code"], u["name"]) for u in raw["urgency_levels"]},
        departments={
            d["code"]: Department(
                d["code"], d["name"], d["level"], bool(d.get("province_specific", False)), d.get("fallback")
            )
            for d in raw["departments"]
        },
        statuses={s["code"]: Status(s["code"], s["name"], bool(s.get("open", True)), tuple(s.get("next", [])))
                  for s in raw.get("statuses", [])},
    )


def _check(tax: Taxonomy) -> None:
    """Refuse a taxonomy file whose cross-references are broken, at load time rather than mid-request."""
    for sector in tax.sectors.values():
        if sector.default_department not in tax.departments:
            raise ValueError(f"sector {sector.code}: unknown default department {sector.default_department}")
    for status in tax.statuses.values():
        unknown = set(status.next) - set(tax.statuses)
        if unknown:
            raise ValueError(f"status {status.code}: unknown next statuses {sorted(unknown)}")
    for dept in tax.departments.values():
        if dept.province_specific and dept.fallback not in tax.departments:
            raise ValueError(f"department {dept.code}: fallback {dept.fallback!r} is not a department")


@lru_cache(maxsize=4)
def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    """Read and check the taxonomy once per path; later calls get the cached object."""
    with open(path, encoding="utf-8") as handle:
        tax = _parse(yaml.safe_load(handle))
    _check(tax)
    return tax
