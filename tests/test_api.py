"""Every endpoint, on SQLite and on the real PostgreSQL server, including bad input and access control."""

from datetime import UTC, datetime, timedelta

import pytest

LETTER = ("Kính gửi UBND phường Bàn Cờ. Hẻm 12 (phường 5 quận 3 cũ) bị ngập sâu ba ngày nay sau mỗi trận mưa, "
          "nước tràn vào nhà dân. Đề nghị nạo vét cống thoát nước. Liên hệ 0912 345 678.")


def file(client, auth, text=LETTER, **extra):
    response = client.post("/v1/petitions", json={"text": text, **extra}, headers=auth)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_classify_returns_the_batch_shape_and_stores_nothing(client, auth):
    response = client.post("/v1/classify", json={"text": LETTER, "channel": "letter"})
    assert response.status_code == 200
    body = response.json()
    assert body["location"] == {"province": "Hồ Chí Minh", "commune": "Phường Bàn Cờ", "original": body["location"]["original"]}
    assert len(body["sector_candidates"]) == 3 and body["departments"] and response.headers["x-request-id"]
    assert client.get("/v1/stats").json()["total"] == 0


def test_province_hint_and_unknown_province(client):
    body = client.post("/v1/classify", json={"text": "đường bị ngập quá", "province": "TP.HCM"}).json()
    assert body["location"]["province"] == "Hồ Chí Minh"
    bad = client.post("/v1/classify", json={"text": "x y z", "province": "Atlantis"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "province"


@pytest.mark.parametrize("payload,field", [
    ({"text": ""}, "text"), ({"text": "   \n\t"}, "text"), ({"text": "a" * 20_001}, "text"), ({"text": 5}, "text"),
    ({}, "text"), ({"text": "ok", "channel": "fax"}, "channel"), ({"text": "ok", "extra": 1}, "extra"),
])
def test_classify_bad_input_names_the_field(client, payload, field):
    response = client.post("/v1/classify", json=payload)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request" and field in [f["field"] for f in body["fields"]]
    assert "a" * 100 not in response.text  # the submitted text is never echoed


def test_invalid_json_is_a_4xx(client):
    response = client.post("/v1/classify", content=b'{"text": "abc', headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "invalid JSON" in response.json()["message"]


def test_batch_keeps_order_and_reports_bad_items(client):
    items = [{"id": "1", "text": "mat dien tu sang"}, {"id": "2", "text": ""}, {"text": "không có id"},
             {"id": 4, "text": "Quán karaoke hát đến 2 giờ sáng"}]
    results = client.post("/v1/classify/batch", json={"items": items}).json()["results"]
    assert [r["id"] for r in results] == ["1", "2", None, 4]
    assert results[0]["result"] and results[3]["result"]
    assert results[1]["errors"][0]["field"] == "text" and results[2]["errors"][0]["field"] == "id"
    too_many = client.post("/v1/classify/batch", json={"items": [{"id": i, "text": "x"} for i in range(1001)]})
    assert too_many.status_code == 422 and too_many.json()["fields"][0]["field"] == "items"


def test_write_endpoints_need_a_valid_key(client, auth):
    assert client.post("/v1/petitions", json={"text": LETTER}).status_code == 401
    assert client.post("/v1/petitions", json={"text": LETTER}, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/v1/petitions").status_code == 401
    assert client.get("/v1/petitions", headers=auth).status_code == 200


def test_without_configured_keys_writes_are_refused(settings, triager, caplog):
    from fastapi.testclient import TestClient

    from service.api.app import create_app

    with TestClient(create_app(settings.model_copy(update={"api_keys": ""}), triager=triager)) as client:
        response = client.post("/v1/petitions", json={"text": LETTER}, headers={"X-API-Key": "anything"})
    assert response.status_code == 403 and response.json()["error"] == "no_api_keys_configured"
    assert "no API key" in caplog.text


def test_intake_is_idempotent_and_sets_due_dates(client, auth):
    first = client.post("/v1/petitions", headers={**auth, "Idempotency-Key": "hl-1"},
                        json={"text": LETTER, "channel": "hotline", "external_ref": "HL-1",
                              "received_at": "2026-11-20T09:00:00", "contact": {"name": "Nguyễn Văn An"}})
    assert first.status_code == 201
    body = first.json()
    assert body["status"] == "new" and body["received_at"].startswith("2026-11-20T02:00:00")  # UTC+7 → UTC
    assert body["triage"]["model_version"] and body["history"][0]["source"] == "model"
    if body["petition_type"] == "kien_nghi_phan_anh":
        assert body["accept_due"].startswith("2026-12-07")  # 10 working days; 24 November is a holiday
    again = client.post("/v1/petitions", headers={**auth, "Idempotency-Key": "hl-1"}, json={"text": "khác"})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert client.get("/v1/stats").json()["total"] == 1


@pytest.mark.parametrize("where", ["header", "body"])
def test_empty_idempotency_key_is_refused(client, auth, where):
    headers = {**auth, "Idempotency-Key": " "} if where == "header" else auth
    body = {"text": LETTER, **({"idempotency_key": "  "} if where == "body" else {})}
    for _ in range(2):
        response = client.post("/v1/petitions", json=body, headers=headers)
        assert response.status_code == 422 and "idempotency" in response.json()["message"].lower()
    assert client.get("/v1/stats").json()["total"] == 0


def test_list_filters_and_cursor_pagination(client, auth):
    base = datetime(2026, 11, 1, tzinfo=UTC)
    ids = [file(client, auth, f"{LETTER} ({i})", received_at=(base + timedelta(hours=i)).isoformat())["id"]
           for i in range(5)]
    page1 = client.get("/v1/petitions", params={"limit": 2}, headers=auth).json()
    page2 = client.get("/v1/petitions", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=auth).json()
    page3 = client.get("/v1/petitions", params={"limit": 2, "cursor": page2["next_cursor"]}, headers=auth).json()
    seen = [p["id"] for p in page1["items"] + page2["items"] + page3["items"]]
    assert seen == list(reversed(ids)) and page3["next_cursor"] is None
    ranged = client.get("/v1/petitions", headers=auth, params={
        "received_from": (base + timedelta(hours=1)).isoformat(), "received_to": (base + timedelta(hours=3)).isoformat()})
    assert len(ranged.json()["items"]) == 2
    sector = page1["items"][0]["sector"]
    assert all(p["sector"] == sector for p in
               client.get("/v1/petitions", params={"sector": sector}, headers=auth).json()["items"])
    assert client.get("/v1/petitions", params={"commune": "Phường Bàn Cờ"}, headers=auth).json()["items"]
    assert client.get("/v1/petitions", params={"sector": "nope"}, headers=auth).status_code == 422
    assert client.get("/v1/petitions", params={"cursor": "garbage!"}, headers=auth).status_code == 422
    assert client.get("/v1/petitions", params={"limit": 0}, headers=auth).status_code == 422


def test_decision_records_who_what_and_the_model_version(client, auth):
    petition = file(client, auth)
    decision = {"officer": "cb.tiepdan.01", "sector": "ha_tang_do_thi", "department": "so_xay_dung",
                "urgency": "khan_cap", "status": "accepted", "note": "chuyển Sở Xây dựng"}
    response = client.post(f"/v1/petitions/{petition['id']}/decision", json=decision, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "accepted" and body["urgency"] == "khan_cap" and not body["needs_review"]
    recorded = body["decisions"][0]
    assert recorded["officer"] == "cb.tiepdan.01" and recorded["model_version"] == petition["model_version"]
    assert recorded["previous"]["urgency"] == petition["urgency"]
    assert body["history"][-1]["source"] == "officer"
    detail = client.get(f"/v1/petitions/{petition['id']}", headers=auth).json()
    assert detail["text"] == LETTER and len(detail["history"]) == 2
    stats = client.get("/v1/stats").json()
    assert stats["decided"] == 1 and stats["by_status"] == {"accepted": 1}


@pytest.mark.parametrize("decision,status,field", [
    ({"officer": "a", "sector": "nope"}, 422, "sector"), ({"officer": "a", "department": "so_abc"}, 422, "department"),
    ({"sector": "dat_dai"}, 422, "officer"), ({"officer": "a", "status": "closed"}, 409, None),
    ({"officer": "a", "status": "weird"}, 422, "status"),
])
def test_bad_decisions(client, auth, decision, status, field):
    petition = file(client, auth)
    response = client.post(f"/v1/petitions/{petition['id']}/decision", json=decision, headers=auth)
    assert response.status_code == status, response.text
    if field:
        assert field in [f["field"] for f in response.json()["fields"]]


def test_unknown_petition_is_404(client, auth):
    assert client.get("/v1/petitions/nope", headers=auth).status_code == 404
    response = client.post("/v1/petitions/nope/decision", json={"officer": "a"}, headers=auth)
    assert response.status_code == 404 and "petition_id" in response.json()["message"]


def test_taxonomy_model_health_ready(client):
    taxonomy = client.get("/v1/taxonomy").json()
    assert len(taxonomy["sectors"]) == 16 and len(taxonomy["departments"]) == 22
    model = client.get("/v1/model").json()
    assert model["version"] and set(model["labels"]) == {"sector", "petition_type", "urgency", "department"}
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"model": True, "database": True}


def test_logs_carry_no_petition_text(client, auth, caplog):
    caplog.set_level("DEBUG")
    file(client, auth, "Nguyễn Thị Bí Mật gọi 0987654321 phản ánh hẻm ngập")
    assert "Bí Mật" not in caplog.text and "0987654321" not in caplog.text
    assert "request_id=" in caplog.text


def test_an_unexpected_error_is_a_500_with_a_request_id_and_no_submitted_text_in_the_log(settings, triager, caplog):
    from fastapi.testclient import TestClient

    from service.api.app import create_app

    class Failing:
        """The real triager, made to fail the way a bug would, with the text in the exception's message."""

        def __getattr__(self, name):
            return getattr(triager, name)

        def triage(self, text, *args, **kwargs):
            raise RuntimeError(f"could not read {text!r}")

    secret = "Nguyễn Văn Bí Mật, CCCD 001203004567"
    with TestClient(create_app(settings, triager=Failing()), raise_server_exceptions=False) as client:
        response = client.post("/v1/classify", json={"text": secret})
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal_error" and body["request_id"] and secret not in response.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "unhandled RuntimeError" in logged and body["request_id"] in logged and "Bí Mật" not in logged


def test_database_errors_never_carry_the_petition_text(settings):
    from sqlalchemy import text as sql
    from sqlalchemy.exc import StatementError

    from service.store import make_engine

    engine = make_engine(settings.database_url)
    with engine.connect() as connection, pytest.raises(StatementError) as failure:
        connection.execute(sql("SELECT * FROM no_such_table WHERE note = :note"), {"note": "Bí Mật 0912 345 678"})
    assert "Bí Mật" not in str(failure.value) and "0912" not in str(failure.value)
