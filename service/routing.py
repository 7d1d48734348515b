"""Which department should handle a petition.

Two kinds of evidence are combined:

* the taxonomy's routing table, held as data in ``data/routing/rules.yaml``: for each sector an ordered list
  of exception rules (first match wins, keyword evidence matched on the folded text), else the sector's
  default department. Each sector candidate votes for its rule's department with the sector's probability;
* the department head of the model, which learnt the same table from labelled petitions, including the
  cases no keyword list anticipates.

``score = w·P_model(dept) + (1−w)·P_rules(dept)``; ``w`` is chosen on validation data at training time and
stored in the bundle. Rules speak in national codes; a province-specific department (Sở Quy hoạch – Kiến
trúc, Sở Du lịch, Sở Dân tộc và Tôn giáo) replaces its fallback only where ``data/routing/provinces/`` says
the province has it. Every suggestion carries the reason (which rule fired, or the model).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from service import DATA_DIR
from service.location import Location, province_key, resolve_province
from service.taxonomy import Taxonomy, load_taxonomy
from service.text import fold_diacritics

ROUTING_DIR = DATA_DIR / "routing"
#: Sector candidates below this probability do not vote through the rules.
MIN_SECTOR_VOTE = 0.05


@dataclass(frozen=True)
class Rule:
    id: str
    sector: str
    department: str          # as written (may be province-specific)
    reason: str
    pattern: re.Pattern[str]

    def matches(self, folded_text: str) -> bool:
        return self.pattern.search(folded_text) is not None


@dataclass(frozen=True)
class ProvinceConfig:
    province: str
    departments: frozenset[str]   # province-specific departments that exist there
    names: dict[str, str]         # local names of departments


@dataclass(frozen=True)
class DepartmentSuggestion:
    code: str
    name: str
    level: str
    confidence: float
    reason: str
    rule: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "level": self.level,
                "confidence": round(self.confidence, 4), "reason": self.reason}


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str]:
    folded = sorted({fold_diacritics(str(p)).lower().strip() for p in phrases if str(p).strip()}, key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in folded)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


class Router:
    """Routing rules and province configuration, loaded once; ``route`` is pure and thread-safe."""

    def __init__(self, taxonomy: Taxonomy, rules: Mapping[str, list[Rule]], provinces: Mapping[str, ProvinceConfig]):
        self.taxonomy = taxonomy
        self.rules = dict(rules)
        self.provinces = dict(provinces)

    @classmethod
    def from_directory(cls, directory: Path = ROUTING_DIR, taxonomy: Taxonomy | None = None) -> Router:
        taxonomy = taxonomy or load_taxonomy()
        raw = yaml.safe_load((directory / "rules.yaml").read_text(encoding="utf-8"))
        rules: dict[str, list[Rule]] = {}
        for sector, entries in (raw.get("sectors") or {}).items():
            if sector not in taxonomy.sectors:
                raise ValueError(f"rules.yaml: unknown sector {sector!r}")
            for entry in entries:
                if entry["department"] not in taxonomy.departments:
                    raise ValueError(f"rules.yaml: rule {entry['id']} names unknown department {entry['department']!r}")
                rules.setdefault(sector, []).append(
                    Rule(entry["id"], sector, entry["department"], entry["reason"], _phrase_pattern(entry["any"]))
                )
        provinces: dict[str, ProvinceConfig] = {}
        for path in sorted((directory / "provinces").glob("*.yaml")):
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
            name = resolve_province(spec["province"])
            if name is None:
                raise ValueError(f"{path}: unknown province {spec['province']!r}")
            unknown = [d for d in [*spec.get("departments", []), *spec.get("names", {})] if d not in taxonomy.departments]
            if unknown:
                raise ValueError(f"{path}: unknown department codes {unknown}")
            provinces[province_key(name)] = ProvinceConfig(name, frozenset(spec.get("departments", [])),
                                                           dict(spec.get("names", {})))
        return cls(taxonomy, rules, provinces)

    def rule_for(self, sector: str, folded_text: str) -> tuple[str, str, str | None]:
        """(department as written, reason, rule id) for one sector: first matching exception, else default."""
        for rule in self.rules.get(sector, []):
            if rule.matches(folded_text):
                return rule.department, rule.reason, rule.id
        default = self.taxonomy.sectors[sector].default_department
        return default, f"Mặc định của lĩnh vực {self.taxonomy.sectors[sector].name}", None

    def province_config(self, province: str | None) -> ProvinceConfig | None:
        return self.provinces.get(province_key(province)) if province else None

    def route(
        self,
        text: str,
        sector_probs: Mapping[str, float],
        department_probs: Mapping[str, float],
        location: Location | None,
        model_weight: float = 0.5,
        limit: int = 3,
    ) -> list[DepartmentSuggestion]:
        """Up to ``limit`` departments, primary first, with confidences that sum to at most 1."""
        folded = fold_diacritics(text).lower()
        rule_votes: dict[str, float] = {}
        rule_evidence: dict[str, tuple[float, str, str | None, str]] = {}  # national code → best (p, reason, id, target)
        for sector, p_sector in sector_probs.items():
            if p_sector < MIN_SECTOR_VOTE:
                continue
            target, reason, rule_id = self.rule_for(sector, folded)
            national = self.taxonomy.national_department(target)
            rule_votes[national] = rule_votes.get(national, 0.0) + p_sector
            if national not in rule_evidence or rule_evidence[national][0] < p_sector:
                rule_evidence[national] = (p_sector, reason, rule_id, target)

        scores = {code: model_weight * department_probs.get(code, 0.0) + (1 - model_weight) * rule_votes.get(code, 0.0)
                  for code in set(department_probs) | set(rule_votes)}
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)[:limit]
        config = self.province_config(location.province if location else None)
        return [self._suggestion(code, score, rule_evidence.get(code), department_probs.get(code, 0.0), location, config)
                for code, score in ranked if score > 0]

    def _suggestion(self, code: str, score: float, evidence: tuple[float, str, str | None, str] | None,
                    p_model: float, location: Location | None, config: ProvinceConfig | None) -> DepartmentSuggestion:
        rule_id = None
        if evidence is not None:
            _, reason, rule_id, target = evidence
            if target != code and config is not None and target in config.departments:
                code = target  # the province has the specific department the rule names
            reason = f"{reason} (quy tắc {rule_id})" if rule_id else reason
            if p_model >= 0.2:
                reason += f"; mô hình {p_model:.0%}"
        else:
            reason = f"Mô hình phân loại ({p_model:.0%}) từ các đơn tương tự"
        department = self.taxonomy.departments[code]
        name = config.names.get(code, department.name) if config else department.name
        if code == "ubnd_xa_phuong" and location is not None and location.commune:
            name = f"UBND {location.commune}"
        return DepartmentSuggestion(code, name, department.level, score, reason, rule_id)


@lru_cache(maxsize=1)
def default_router() -> Router:
    return Router.from_directory()
