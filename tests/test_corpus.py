import json

from training.augment import augment
from training.corpus import load_records, near_duplicates
from training.split import split_by_group, validation_split
from training.validate import validate_corpus

GOOD = {"id": "x-1", "text": "Đường hẻm 12 bị ngập ba ngày nay", "channel": "web", "sector": "ha_tang_do_thi",
        "petition_type": "kien_nghi_phan_anh", "urgency": "cao", "department": "so_xay_dung"}


def write(tmp_path, rows, name="a.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def test_validator_reports_each_kind_of_problem(tmp_path, taxonomy):
    rows = [GOOD, {**GOOD, "id": "x-2", "sector": "nope"}, {**GOOD, "id": "x-3", "department": "so_du_lich"},
            {**GOOD, "id": "x-1", "text": "khác hẳn"}, "{not json", {**GOOD, "id": "x-4", "text": "  "},
            {**GOOD, "id": "x-5", "province": "Atlantis"}, {**GOOD, "id": "x-6", "channel": "fax"}]
    records, problems = load_records([write(tmp_path, rows)], taxonomy)
    messages = " | ".join(str(p) for p in problems)
    # a province-specific department is read as its national fallback, which the taxonomy makes equivalent
    assert [(r.id, r.department) for r in records] == [("x-1", "so_xay_dung"), ("x-3", "so_van_hoa_the_thao_du_lich")]
    for expected in ("unknown sector 'nope'", "duplicate id 'x-1'", "invalid JSON",
                     "missing field 'text'", "unknown province 'Atlantis'", "unknown channel 'fax'"):
        assert expected in messages


def test_validate_command_fails_on_exact_duplicates(tmp_path, taxonomy):
    write(tmp_path, [GOOD, {**GOOD, "id": "x-2", "text": "duong hem 12 bi ngap ba ngay nay"}])
    lines = []
    assert validate_corpus(tmp_path, taxonomy, out=lines.append) == 1
    assert any("exact duplicate" in line for line in lines)


def test_near_duplicates_found_across_groups_only(taxonomy, tmp_path):
    rows = [GOOD, {**GOOD, "id": "x-2", "text": GOOD["text"] + " rồi"},
            {**GOOD, "id": "x-3", "text": "Công ty nợ lương công nhân ba tháng", "sector": "lao_dong_xa_hoi",
             "department": "so_noi_vu"}]
    records, _ = load_records([write(tmp_path, rows)], taxonomy)
    assert [(a, b) for a, b, _ in near_duplicates(records)] == [("x-1", "x-2")]
    records[1].group = "x-1"  # a tagged variant of x-1 is not a duplicate
    assert near_duplicates(records) == []


def test_committed_corpus_is_valid(taxonomy):
    from training.corpus import CORPUS_DIR

    lines = []
    assert validate_corpus(CORPUS_DIR, taxonomy, out=lines.append) == 0, "\n".join(lines[-30:])


def test_split_is_by_group_and_deterministic(taxonomy, tmp_path):
    rows = [{**GOOD, "id": f"x-{i}", "text": f"đơn số {i} về ngập nước"} for i in range(400)]
    records, _ = load_records([write(tmp_path, rows)], taxonomy)
    augmented = augment(records)
    train, test = split_by_group(augmented)
    assert {r.group for r in train}.isdisjoint({r.group for r in test})
    assert 0.1 < len({r.group for r in test}) / 400 < 0.3
    assert [r.id for r in split_by_group(list(reversed(augmented)))[1]] == [r.id for r in reversed(test)]
    fit, validation = validation_split(train)
    assert {r.group for r in fit}.isdisjoint({r.group for r in validation})


def test_augmentation_keeps_labels_and_group(taxonomy, tmp_path):
    records, _ = load_records([write(tmp_path, [GOOD])], taxonomy)
    variants = augment(records)
    assert len(variants) >= 3
    assert all(v.group == "x-1" and v.sector == GOOD["sector"] for v in variants)
    assert all(v.variant_of == "x-1" for v in variants[1:])
    assert any("ngap" in v.text and "ậ" not in v.text for v in variants[1:])
    assert augment(records) == variants  # deterministic
