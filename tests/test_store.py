from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from service.store import (
    NewPetition,
    TransitionError,
    Petition,
    due_dates,
    file_petition,
    get_petition,
    make_engine,
    migrate,
    record_decision,
    session_factory,
    stats,
)

TRIAGE = {"sector": {"code": "ha_tang_do_thi"}, "petition_type": {"code": "kien_nghi_phan_anh"},
          "urgency": {"code": "cao"}, "departments": [{"code": "so_xay_dung"}], "location": None,
          "needs_review": True, "model_version": "v-test"}


def test_due_dates_count_working_or_calendar_days_by_petition_type(taxonomy):
    friday = datetime(2026, 11, 20, 9, tzinfo=UTC)
    dates = due_dates(friday, "khieu_nai", taxonomy)  # accept within 10 days, resolve within 30 of that
    assert dates["accept_due"] == datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert dates["resolve_due"] == datetime(2026, 12, 30, 9, tzinfo=UTC)
    assert due_dates(friday, "hoi_dap", taxonomy) == {"accept_due": None, "resolve_due": None}
    # 10 working days: Monday 23, then from 25 November (the 24th is Vietnam Cultural Day) → Monday 7 December
    assert due_dates(friday, "kien_nghi_phan_anh", taxonomy)["accept_due"] == datetime(2026, 12, 7, 9, tzinfo=UTC)


def test_petition_lifecycle_on_both_databases(database_url, taxonomy):
    migrate(database_url)
    factory = session_factory(make_engine(database_url))
    now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    data = NewPetition("Hẻm 12 ngập", "web", now, {"name": "A"}, "REF-1", "key-1")
    with factory() as session:
        petition, created = file_petition(session, data, TRIAGE, taxonomy, now)
        petition_id = petition["id"]
    assert created and [e["kind"] for e in petition["events"]] == ["triage"]
    with factory() as session:
        again, created = file_petition(session, data, TRIAGE, taxonomy, now)
        assert not created and again["id"] == petition_id and len(again["events"]) == 1
        assert session.scalar(select(func.count()).select_from(Petition)) == 1  # stored once
    with factory() as session, session.begin():
        petition = get_petition(session, petition_id)
        values = {"sector": "giao_thong", "petition_type": "khieu_nai", "urgency": "cao", "department": "so_xay_dung"}
        decision = record_decision(session, petition, "officer-1", values, "accepted", taxonomy, now)
        assert not decision.confirmed and decision.previous["sector"] == "ha_tang_do_thi"
        with pytest.raises(TransitionError, match="from 'accepted' to 'closed'"):
            record_decision(session, petition, "officer-1", values, "closed", taxonomy, now)
    with factory() as session:
        petition = get_petition(session, petition_id, with_history=True)
        assert petition.status == "accepted" and petition.sector == "giao_thong"
        assert petition.resolve_due is not None  # recomputed for khieu_nai
        assert [e.kind for e in petition.events] == ["triage", "decision"]
        assert petition.events[1].changes["sector"] == {"from": "ha_tang_do_thi", "to": "giao_thong"}
        assert petition.received_at == now
        summary = stats(session, taxonomy, now)
    assert summary["total"] == 1 and summary["decided"] == 1 and summary["model_confirmed_share"] == 0.0
    assert summary["by_status"] == {"accepted": 1}


def test_racing_requests_with_one_new_key_store_one_petition(database_url, taxonomy):
    migrate(database_url)
    factory = session_factory(make_engine(database_url))
    now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    data = NewPetition("Mất nước ba ngày", "sms", now, None, None, "retry-storm-1")

    def attempt(_: int) -> tuple[str, bool]:
        with factory() as session:
            record, created = file_petition(session, data, TRIAGE, taxonomy, now)
            return record["id"], created

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    assert sum(created for _, created in outcomes) == 1
    assert len({petition_id for petition_id, _ in outcomes}) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Petition)) == 1
