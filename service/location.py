"""Finding where a petition comes from, in today's administrative units.

Citizens write both pre-2025 addresses ("P.5 Q.3", "xã Phước Kiển, huyện Nhà Bè, TP.HCM") and new ones
("phường Bàn Cờ"), with or without diacritics. The old→new tables are underthesea's address converter data
(built from the maintained ``vietnamadminunits`` package: 63→34 provinces, every old ward → its 2025 commune);
this module only finds the mentions in free text and asks those tables. Conversion of a complete old address
uses ``underthesea.address.convert_address`` itself.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from service.text import fold_diacritics, underthesea_data

_MAPPING_PATH = underthesea_data("address/data/mapping.json")
_NOT_KEY = re.compile(r"[^a-z0-9]")


def normalize_key(text: str) -> str:
    """The key form of underthesea.address's tables ("Phường Bàn Cờ" → "phuongbanco"): lowercase, folded,
    letters and digits only. Same rule as ``underthesea.address.normalizer.normalize_key``, without importing
    the underthesea package on the serving path."""
    return _NOT_KEY.sub("", fold_diacritics(text.lower().strip()))

# Unit words as people write them (folded, lowercase) → the unit prefix used in the data's keys.
_WARD_UNITS = {"phuong": "phuong", "p": "phuong", "xa": "xa", "x": "xa", "thi tran": "thitran",
               "tt": "thitran", "dac khu": "dackhu"}
_DISTRICT_UNITS = {"quan": "quan", "q": "quan", "huyen": "huyen", "h": "huyen", "thi xa": "thixa",
                   "tx": "thixa", "thanh pho": "thanhpho", "tp": "thanhpho"}
_PROVINCE_UNITS = {"tinh": "tinh", "thanh pho": "thanhpho", "tp": "thanhpho"}
# Short forms of the big cities' names that the data does not list.
_PROVINCE_ALIASES = {
    "hcm": "thanhphohochiminh", "tphcm": "thanhphohochiminh", "saigon": "thanhphohochiminh",
    "hochiminh": "thanhphohochiminh", "hanoi": "thanhphohanoi", "danang": "thanhphodanang",
    "haiphong": "thanhphohaiphong", "cantho": "thanhphocantho", "hue": "thanhphohue",
}

_UNIT_WORDS = sorted({*_WARD_UNITS, *_DISTRICT_UNITS, *_PROVINCE_UNITS}, key=len, reverse=True)
# A unit word, then a dot, spaces or a digit ("P.5", "phường 5", "q3"), then up to four name words, read
# in a lookahead so that "P.5 Q.3" yields both mentions.
_MENTION = re.compile(
    r"(?<![a-z0-9])(" + "|".join(w.replace(" ", r"\s+") for w in _UNIT_WORDS) + r")(?:\.\s*|\s+|(?=\d))"
    r"(?=([a-z0-9]+(?:[ \t]+[a-z0-9]+){0,3}))"
)
# A street, road or bridge word right before a place name makes it a street's name, not the place.
_STREET_BEFORE = re.compile(r"(?:(?<![a-z])(?:duong|dai lo|hem|ngo|kiet|cau|quoc lo)|(?<!thanh )(?<![a-z])pho)\s+\Z")
_STOP_WORDS = {"quan", "huyen", "tinh", "thanh", "pho", "tp", "phuong", "xa", "thi", "q", "h", "p", "x",
               "va", "cua", "bi", "da", "o", "tai", "nha", "so", "duong", "hem", "ngo", "to", "ap", "thon"}


@dataclass(frozen=True)
class Location:
    """Where a petition comes from, in 2025 units; ``original`` is the text that named it."""

    province: str | None
    commune: str | None
    original: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"province": self.province, "commune": self.commune, "original": self.original}


@dataclass(frozen=True)
class _Index:
    province_names: dict[str, str]            # new province key → short display name
    province_by_alias: dict[str, str]         # any name key (old or new, with/without unit) → new key
    new_wards: dict[str, dict[str, str]]      # ward key → {new province key: display name}
    old_wards: dict[str, list[dict]]          # old ward key → mapping records
    old_districts: dict[str, set[str]]        # old district key → old province keys
    old_to_new_province: dict[str, str]
    known_wards: frozenset[str]               # every ward key, old or new
    bare_names: dict[str, str]                # folded short name of any old or new province → new key
    accented_names: dict[str, frozenset[str]]  # new key → its old and new short names, accented, lowercase


@lru_cache(maxsize=1)
def _index() -> _Index:
    with open(_MAPPING_PATH, encoding="utf-8") as handle:
        data = json.load(handle)
    province_names = {key: info["short"] for key, info in data["province_names"].items()}
    old_to_new = dict(data["province_mapping"])
    by_alias: dict[str, str] = dict(_PROVINCE_ALIASES)
    bare_names: dict[str, str] = {}
    accented: dict[str, set[str]] = defaultdict(set)
    for table, to_new in ((data["old_province_names"], old_to_new), (data["province_names"], None)):
        for key, info in table.items():
            new_key = to_new[key] if to_new else key
            by_alias[key] = new_key
            by_alias[normalize_key(info["short"])] = new_key
            bare_names[fold_diacritics(info["short"]).lower()] = new_key
            accented[new_key].add(_accent_key(info["short"]))
    new_wards: dict[str, dict[str, str]] = defaultdict(dict)
    old_wards: dict[str, list[dict]] = defaultdict(list)
    old_districts: dict[str, set[str]] = defaultdict(set)
    for record in data["ward_mapping"]:
        new_wards[record["new_ward_key"]][record["new_province_key"]] = record["new_ward"]
        old_wards[record["old_ward_key"]].append(record)
        old_districts[record["old_district_key"]].add(record["old_province_key"])
    return _Index(province_names, by_alias, dict(new_wards), dict(old_wards), dict(old_districts), old_to_new,
                  frozenset(new_wards) | frozenset(old_wards), bare_names,
                  {key: frozenset(names) for key, names in accented.items()})


def resolve_province(name: str | None) -> str | None:
    """A province as anyone writes it ("TP.HCM", "tinh Long An", "Hà Nội") → today's short name, or None."""
    if not name or not name.strip():
        return None
    index = _index()
    key = normalize_key(fold_diacritics(name))
    for prefix in ("thanhpho", "tinh", "tp"):
        if key.startswith(prefix) and key[len(prefix):] in index.province_by_alias:
            key = key[len(prefix):]
            break
    new_key = index.province_by_alias.get(key)
    return index.province_names[new_key] if new_key else None


def province_key(short_name: str) -> str | None:
    """Stable slug of a province name ("Hồ Chí Minh" → "ho_chi_minh"), for per-province config files."""
    folded = fold_diacritics(short_name).lower()
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_") or None


@dataclass
class _Mentions:
    provinces: list[tuple[str, str]]            # (new province key, original text)
    districts: list[tuple[str, str]]            # (old district key, original text)
    wards: list[tuple[str, str]]                # (ward key, original text)


def _find_mentions(text: str) -> _Mentions:
    index = _index()
    folded = fold_diacritics(text).lower()
    found = _Mentions([], [], [])
    for match in _MENTION.finditer(folded):
        unit = re.sub(r"\s+", " ", match.group(1))
        words = match.group(2).split()
        # Longest run of name words that the tables know, e.g. "ban co" in "phuong ban co bi ngap".
        for size in range(min(4, len(words)), 0, -1):
            name_words = words[:size]
            if size > 1 and name_words[-1] in _STOP_WORDS:
                continue
            name_key = "".join(name_words)
            span = text[match.start(): match.start(2) + len(" ".join(name_words))]
            if unit in _WARD_UNITS and (key := _WARD_UNITS[unit] + name_key) in index.known_wards:
                if size == 1 and not name_key.isdigit() and not _capitalised(text, match.start(2)):
                    # "xã tự ý", "phường hỗ trợ", "xã xuống làm": one lowercase word after the unit is
                    # almost always an ordinary word; one-word commune names are written as names
                    break
                found.wards.append((key, span))
                district = _district_after(folded, match.start(2) + len(" ".join(name_words)))
                if district:
                    found.districts.append(district)
                break
            if unit in _DISTRICT_UNITS and (key := _DISTRICT_UNITS[unit] + name_key) in index.old_districts:
                found.districts.append((key, span))
                break
            if unit in _PROVINCE_UNITS and name_key in index.province_by_alias:
                found.provinces.append((index.province_by_alias[name_key], span))
                break
    # Bare province names ("... ở Đà Nẵng", "tp hcm"), matched on the folded text as whole words.
    pattern, keys = _bare_province_pattern()
    for match in pattern.finditer(folded):
        key = keys[re.sub(r"\s+", " ", match.group())]
        span = text[match.start(): match.end()]
        if _STREET_BEFORE.search(folded, 0, match.start()):
            continue  # "đường Hồ Chí Minh", "phố Hà Nội": a street named after the place
        if fold_diacritics(span) != span and _accent_key(span) not in index.accented_names.get(key, ()):
            continue  # written with accents that are not the province's: "hai đường", "diễn biến", "lắm đông"
        found.provinces.append((key, span))
    return found


def _accent_key(written: str) -> str:
    """A place name as written, for comparing accents: lowercase, single spaces."""
    return re.sub(r"\s+", " ", written.lower()).strip()


def _capitalised(text: str, position: int) -> bool:
    return position < len(text) and text[position].isupper()


def _district_after(folded: str, position: int) -> tuple[str, str] | None:
    """An old district named right after a ward without its unit word ("P.Tan Phong Bien Hoa",
    "p.an khanh ninh kieu"): the key of that district (any district-level unit) and the words."""
    words = re.findall(r"[a-z0-9]+", folded[position: position + 40])[:3]
    for size in range(len(words), 0, -1):
        name_key = "".join(words[:size])
        if size == 1 and len(name_key) < 4:
            continue
        for unit in ("quan", "huyen", "thanhpho", "thixa"):
            if unit + name_key in _index().old_districts:
                return unit + name_key, " ".join(words[:size])
    return None


@lru_cache(maxsize=1)
def _bare_province_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation of every old and new province name (folded), longest first, and name → new key."""
    names = {**_index().bare_names, "tp.hcm": "thanhphohochiminh", "tphcm": "thanhphohochiminh",
             "tp hcm": "thanhphohochiminh", "sai gon": "thanhphohochiminh"}
    alternatives = "|".join(re.escape(name).replace(r"\ ", r"\s+") for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])"), names


def find_location(text: str, province_hint: str | None = None) -> Location | None:
    """Province and commune the text speaks of, converted to 2025 units; None when it names neither.

    ``province_hint`` is the intake office's province: used when the text names no province, and to pick
    among same-named units of different provinces.
    """
    index = _index()
    mentions = _find_mentions(text)
    hint_key = index.province_by_alias.get(normalize_key(fold_diacritics(province_hint))) if province_hint else None

    province: str | None = mentions.provinces[0][0] if mentions.provinces else None
    district_key = mentions.districts[0][0] if mentions.districts else None
    if province is None and district_key:
        candidates = {index.old_to_new_province[p] for p in index.old_districts[district_key]}
        province = hint_key if hint_key in candidates else (candidates.pop() if len(candidates) == 1 else None)

    # A ward is read in the first mentioned province where it exists ("xã Kim Sơn, Ninh Bình" also naming
    # Hà Nội as where the writer works), then the province follows the ward.
    contexts = list(dict.fromkeys(key for key, _ in mentions.provinces)) or [province or hint_key]
    commune: str | None = None
    for ward_key, _span in mentions.wards:
        for context in contexts:
            commune, ward_province = _resolve_ward(ward_key, district_key, context)
            if commune:
                province = ward_province or context
                break
        if commune:
            break
    province = province or hint_key
    if province is None and commune is None:
        return None
    spans = [span for group in (mentions.wards[:1], mentions.districts[:1], mentions.provinces[:1]) for _, span in group]
    return Location(index.province_names.get(province) if province else None, commune, ", ".join(spans) or None)


def _resolve_ward(ward_key: str, district_key: str | None, province: str | None) -> tuple[str | None, str | None]:
    """Today's commune for a ward mention: an old ward (with its district when given) or a new one."""
    index = _index()
    records = index.old_wards.get(ward_key, [])
    if district_key:
        records = [r for r in records if r["old_district_key"] == district_key]
    if province:
        records = [r for r in records if r["new_province_key"] == province]
    new_names = index.new_wards.get(ward_key, {})
    if province and province in new_names and not (district_key and records):
        return new_names[province], province
    if len(new_names) == 1 and not province and not district_key:
        # A 2025 commune name with nothing to say otherwise: today's name is read as today's commune, though
        # an old ward elsewhere had it ("phường Diên Hồng" is Hồ Chí Minh's now, Gia Lai's before 2025)
        (province_key_, name), = new_names.items()
        return name, province_key_
    if records:
        # Several old wards of that name and no district to tell them apart: only answer when they agree.
        targets = {(r["new_ward"], r["new_province_key"]) for r in records}
        default = [r for r in records if r.get("is_default")]
        if len(targets) == 1 or (district_key and default):
            record = default[0] if default else records[0]
            return record["new_ward"], record["new_province_key"]
    if len(new_names) == 1 and not province:
        (province_key_, name), = new_names.items()
        return name, province_key_
    return None, None


def convert_old_address(address: str) -> Location | None:
    """A complete old-style address ("Phường 5, Quận 3, TP.HCM") → 2025 units, by underthesea's converter."""
    from underthesea.address import convert_address

    result = convert_address(address)
    if not result.new.province:
        return None
    return Location(resolve_province(result.new.province), result.new.ward or None, address)
