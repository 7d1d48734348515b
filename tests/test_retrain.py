"""Retraining from officers' decisions: export, the evaluation gate, promotion, reload without downtime."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.model import current_bundle_dir, load_bundle, set_current
from service.store import (
    NewPetition,
    file_petition,
    get_petition,
    make_engine,
    migrate,
    record_decision,
    session_factory,
)
from service.triage import load_triager
from training.corpus import load_corpus
from training.export import export_decisions
from training.retrain import gate, retrain
from training.split import split_by_group

from tests.conftest import API_KEY
from tests.running_service import running_service


# A pattern the base corpus never saw: complaints about a (fictional) "Velmora" monitoring station's siren.
PATTERN = [
    "Còi báo của trạm Velmora đầu {place} kêu suốt đêm qua, đề nghị kiểm tra.",
    "tram velmora o {place} hu coi, keu lien tuc tu 2h sang, ai xu ly giup",
    "Người dân {place} phản ánh trạm Velmora phát tiếng hú bất thường nhiều ngày.",
    "Đề nghị cơ quan chức năng kiểm tra trạm Velmora tại {place}, thiết bị hỏng kêu inh ỏi.",
    "alo tôi ở {place} à cái trạm velmora nó kêu cả đêm không ngủ được",
    "Trạm Velmora gần trường học ở {place} báo động giả liên tục, đề nghị sửa chữa.",
]
PLACES = ["phường Bàn Cờ", "xã Nhà Bè", "phường Hà Đông", "thôn 3", "khu phố 5", "tổ 12", "ấp Tân Lập", "hẻm 45",
          "phường Hải Châu", "xã Phú Quốc", "phường Ninh Kiều", "xã Tân Phú", "phường Cầu Giấy", "khu 7"]


def pattern_texts() -> list[str]:
    return [template.format(place=place) for place in PLACES for template in PATTERN]


@pytest.fixture
def models_copy(trained, tmp_path) -> Path:
    """A private models folder holding the session's bundle as current (tests here change CURRENT)."""
    models = tmp_path / "models"
    models.mkdir()
    shutil.copytree(trained.directory, models / trained.directory.name)
    set_current(models, models / trained.directory.name)
    return models


def test_gate_refuses_a_drop_beyond_tolerance():
    old = {"sector_macro_f1": 0.9, "department_top1": 0.9, "khan_cap_recall": 1.0}
    assert gate(old, {**old, "sector_macro_f1": 0.895}, 0.01)[0]
    promote, reasons = gate(old, {**old, "khan_cap_recall": 0.95}, 0.01)
    assert not promote and "khan_cap_recall fell" in " ".join(reasons)
    assert gate(None, old, 0.01)[0]


def test_export_masks_personal_data_and_keeps_officer_labels(sqlite_url, taxonomy):
    migrate(sqlite_url)
    factory = session_factory(make_engine(sqlite_url))
    now = datetime.now(UTC)
    text = ("Tôi tên là Nguyễn Văn An, CCCD 079203001234, nhà số 12/3 hẻm 45 đường Trần Hưng Đạo, "
            "điện thoại 0912 345 678, email an.nguyen@gmail.com. Ông Trần Văn Bình xây nhà lấn sang đất tôi.")
    triage = {"sector": {"code": "xay_dung"}, "petition_type": {"code": "to_cao"}, "urgency": {"code": "binh_thuong"},
              "departments": [{"code": "ubnd_xa_phuong"}], "location": None, "needs_review": False,
              "model_version": "v0"}
    with factory() as session:
        filed, _ = file_petition(session, NewPetition(text, "letter", now, None, None, None), triage, taxonomy, now)
        file_petition(session, NewPetition("chưa quyết", "sms", now, None, None, None), triage, taxonomy, now)
    with factory() as session, session.begin():
        record_decision(session, get_petition(session, filed["id"]), "cb1", {"sector": "dat_dai", "petition_type": "to_cao",
                                                   "urgency": "binh_thuong", "department": "so_quy_hoach_kien_truc"},
                        None, taxonomy, now)
    records, summary = export_decisions(sqlite_url, taxonomy)
    assert summary.decided == 1 and len(records) == 1
    exported = records[0]
    assert (exported.sector, exported.department) == ("dat_dai", "so_xay_dung")  # officer wins; national code
    for secret in ("Nguyễn Văn An", "Trần Văn Bình", "079203001234", "0912 345 678", "an.nguyen", "12/3", "hẻm 45"):
        assert secret not in exported.text
    assert "lấn sang đất" in exported.text and exported.text_hash


def test_decisions_teach_a_pattern_and_the_new_model_is_promoted(models_copy, sqlite_url, taxonomy):
    migrate(sqlite_url)
    base = load_triager(models_copy)
    texts = pattern_texts()
    base_sectors = Counter(t.sector.code for t in base.triage_many(texts))
    target = next(s for s in ("nong_nghiep", "giao_duc", "tu_phap_ho_tich") if base_sectors[s] < len(texts) // 4)
    department = taxonomy.sectors[target].default_department
    teach, check = texts[::2], texts[1::2]

    from service.api.app import create_app
    from service.settings import Settings

    settings = Settings(database_url=sqlite_url, models_dir=models_copy, api_keys=API_KEY)
    with TestClient(create_app(settings)) as client:
        for text in teach:
            filed = client.post("/v1/petitions", json={"text": text, "channel": "web"}, headers={"X-API-Key": API_KEY})
            assert filed.status_code == 201
            decided = client.post(f"/v1/petitions/{filed.json()['id']}/decision", headers={"X-API-Key": API_KEY},
                                  json={"officer": "cb.tiepdan", "sector": target, "department": department})
            assert decided.status_code == 200
        version_before = client.get("/v1/model").json()["version"]

        outcome = retrain(sqlite_url, models_copy, quiet=True)
        assert outcome.promoted, outcome.reasons
        assert current_bundle_dir(models_copy).name == outcome.candidate_version != version_before
        report = json.loads(outcome.report_path.read_text())
        assert report["decisions"]["used"] == len(teach) and report["comparison"]["headline"]
        assert (outcome.report_path.parent / "RETRAIN_REPORT.md").is_file()
        assert (outcome.report_path.parent / "report" / "confusion_sector.png").is_file()

        reloaded = client.post("/v1/admin/model/reload", headers={"X-API-Key": API_KEY})
        assert reloaded.status_code == 200 and reloaded.json()["version"] == outcome.candidate_version
        results = [client.post("/v1/classify", json={"text": t}).json() for t in check]
    assert all(r["model_version"] == outcome.candidate_version for r in results)
    assert sum(r["sector"]["code"] == target for r in results) >= 0.8 * len(check)
    assert sum(t.sector.code == target for t in base.triage_many(check)) < 0.25 * len(check)


def test_retraining_on_corrupted_labels_is_refused(models_copy, sqlite_url, taxonomy):
    migrate(sqlite_url)
    factory = session_factory(make_engine(sqlite_url))
    train_side, _ = split_by_group(load_corpus(taxonomy))
    victims = sorted(train_side, key=lambda r: len(r.text))[:900]  # short texts: NER masking stays quick
    sectors = list(taxonomy.sectors)
    now = datetime.now(UTC)
    with factory() as session:
        for record in victims:
            wrong = sectors[(sectors.index(record.sector) + 5) % len(sectors)]
            triage = {"sector": {"code": record.sector}, "petition_type": {"code": record.petition_type},
                      "urgency": {"code": record.urgency}, "departments": [{"code": record.department}],
                      "location": None, "needs_review": False, "model_version": "v0"}
            filed, _ = file_petition(session, NewPetition(record.text, record.channel, now, None, None, None),
                                     triage, taxonomy, now)
            with session.begin():
                record_decision(session, get_petition(session, filed["id"]), "saboteur", {
                    "sector": wrong, "petition_type": record.petition_type, "urgency": "binh_thuong",
                    "department": taxonomy.sectors[wrong].default_department}, None, taxonomy, now)
    before = current_bundle_dir(models_copy)
    outcome = retrain(sqlite_url, models_copy, quiet=True)
    assert not outcome.promoted
    assert any("fell" in reason for reason in outcome.reasons)
    assert current_bundle_dir(models_copy) == before
    report = json.loads(outcome.report_path.read_text())
    assert report["decisions"]["replaced_corpus_records"] >= 800 and not report["promoted"]


def _second_bundle(models: Path) -> Path:
    """The current bundle saved again under another version (a stand-in for a newly promoted model)."""
    bundle = load_bundle(current_bundle_dir(models))
    bundle.version = bundle.version + "-b"
    return bundle.save(models / bundle.version)


def _served_versions(base: str, requests: int) -> Counter:
    """The model versions that answer ``requests`` classify calls, each on a new connection: the kernel
    spreads connections over the workers, so every worker is asked (one kept-alive connection would ask one)."""
    seen: Counter = Counter()
    for _ in range(requests):
        with httpx.Client(base_url=base, timeout=30) as client:
            seen[client.post("/v1/classify", json={"text": "mất nước"}).json()["model_version"]] += 1
    return seen


def _wait_until_served(base: str, version: str, deadline_s: float = 60.0) -> bool:
    """True once 30 calls in a row are answered by ``version``: every worker has swapped."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if set(_served_versions(base, 30)) == {version}:
            return True
        time.sleep(0.5)
    return False


def test_reload_under_concurrent_classify_requests_loses_none(models_copy, tmp_path):
    first = current_bundle_dir(models_copy)
    second = _second_bundle(models_copy)
    with running_service(models_copy, f"sqlite:///{tmp_path / 'reload.db'}", tmp_path / "service.log") as service:
        base = service.base
        failures: list[str] = []
        versions: Counter = Counter()
        stop = threading.Event()

        def hammer() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                while not stop.is_set():
                    response = client.post("/v1/classify", json={"text": "mat dien tu sang o P.5 Q.3"})
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:100]}")
                    else:
                        versions[response.json()["model_version"]] += 1

        threads = [threading.Thread(target=hammer) for _ in range(6)]
        for thread in threads:
            thread.start()
        with httpx.Client(base_url=base, headers={"X-API-Key": API_KEY}, timeout=60) as admin:
            for target in (second, first, second):
                set_current(models_copy, target)
                assert admin.post("/v1/admin/model/reload").status_code == 200
                # the other worker notices models/CURRENT within its check interval, then loads the bundle
                assert _wait_until_served(base, target.name), f"workers never all served {target.name}"
            (models_copy / "broken").mkdir()
            (models_copy / "broken" / "manifest.json").write_text("{}")
            set_current(models_copy, models_copy / "broken")
            refused = admin.post("/v1/admin/model/reload")
            assert refused.status_code == 409 and "still serving" in refused.json()["message"]
            time.sleep(5)  # long enough for every worker's follower to try the broken bundle and refuse it too
            final = _served_versions(base, 30)
        stop.set()
        for thread in threads:
            thread.join()
    assert not failures, failures[:5]
    assert versions[first.name] > 0 and versions[second.name] > 0
    assert set(final) == {second.name}  # the broken bundle was refused by every worker; the last good one kept


def test_an_idle_worker_follows_current_without_any_request(models_copy):
    import asyncio

    from service.serving import ModelHolder

    first = current_bundle_dir(models_copy)
    second = _second_bundle(models_copy)

    async def scenario() -> list[str | None]:
        holder = ModelHolder(models_copy, check_interval=0.1)
        holder.reload()
        follower = asyncio.create_task(holder.follow())
        seen = [holder.triager.version]
        set_current(models_copy, second)
        for _ in range(100):  # no request is made: only the follower can notice
            await asyncio.sleep(0.1)
            if holder.triager.version == second.name:
                break
        seen.append(holder.triager.version)
        follower.cancel()
        return seen

    assert asyncio.run(scenario()) == [first.name, second.name]
