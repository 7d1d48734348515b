"""Request and response bodies. Codes are checked against the taxonomy here, so a bad code is a 422 that
names the field, before any handler runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.location import resolve_province
from service.settings import get_settings
from service.taxonomy import load_taxonomy
from service.workdays import VIETNAM_TZ


EXAMPLE_TEXT = ("Kính gửi UBND phường Bàn Cờ. Hẻm 12 đường Nguyễn Thiện Thuật (phường 5 quận 3 cũ) bị ngập "
                "sâu ba ngày nay sau mỗi trận mưa, nước tràn vào nhà dân. Đề nghị phường nạo vét cống thoát nước.")
EXAMPLE_SMS = "duong hem 12 p5 q3 bi ngap 3 ngay r ma ko ai xu ly, de nghi phuong nao vet cong giup"


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    limit = get_settings().max_text_chars
    if len(value) > limit:
        raise ValueError(f"has {len(value)} characters; the limit is {limit} (nothing is truncated: split the text)")
    return value


def check_code(kind: str, value: str | None) -> str | None:
    if value is None:
        return None
    taxonomy = load_taxonomy()
    valid = list(taxonomy.channels) if kind == "channel" else sorted(
        taxonomy.statuses if kind == "status" else taxonomy.all_codes(kind))
    if value not in valid:
        raise ValueError(f"unknown {kind} code {value!r}; valid codes: {', '.join(valid)}")
    return value


def _check_province(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    resolved = resolve_province(value)
    if resolved is None:
        raise ValueError(f"unknown province {value!r}: give one of the 34 provinces (old names are accepted)")
    return resolved


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": EXAMPLE_TEXT, "channel": "web", "province": "Hồ Chí Minh"},
        {"text": EXAMPLE_SMS, "channel": "sms"},
    ]})

    text: str = Field(description="The petition text, as received (up to 20,000 characters).")
    channel: str | None = Field(default=None, description="letter, web, hotline, transcript or sms (used by the "
                                                          "handling flags).")
    province: str | None = Field(default=None, description="The intake office's province, used when the text names none.")

    _text = field_validator("text")(_check_text)
    _channel = field_validator("channel")(lambda v: check_code("channel", v))
    _province = field_validator("province")(_check_province)


class BatchItem(ClassifyRequest):
    model_config = ConfigDict(extra="ignore")

    id: str | int = Field(description="The caller's id for this item, echoed in its result.")


class BatchRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [
        {"id": "1", "text": EXAMPLE_SMS, "channel": "sms"},
        {"id": "2", "text": "Cột điện trước nhà số 45 ngõ 12 phố Khâm Thiên bị đổ, dây điện rơi xuống đường."},
    ]}]})

    # Items are checked one by one in the handler, so that one bad item gets its own error, not the batch.
    items: list[dict[str, Any]] = Field(description="Up to 1,000 items of {id, text, channel?, province?}.")

    @field_validator("items")
    @classmethod
    def _limit(cls, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        limit = get_settings().max_batch_items
        if len(items) > limit:
            raise ValueError(f"has {len(items)} items; the limit is {limit} per request")
        if not items:
            raise ValueError("must hold at least one item")
        return items


class LabelOut(BaseModel):
    code: str
    name: str
    confidence: float


class DepartmentOut(BaseModel):
    code: str
    name: str
    level: str
    confidence: float
    reason: str


class LocationOut(BaseModel):
    province: str | None
    commune: str | None
    original: str | None


class FlagOut(BaseModel):
    code: str = Field(description="e.g. to_cao_khong_theo_luat, khieu_nai_can_don_co_chu_ky, nhieu_noi_dung")
    message: str = Field(description="The advice to the officer, in Vietnamese.")


class TriageOut(BaseModel):
    sector: LabelOut
    sector_candidates: list[LabelOut]
    petition_type: LabelOut
    urgency: LabelOut
    departments: list[DepartmentOut]
    location: LocationOut | None
    needs_review: bool
    keywords: list[str]
    flags: list[FlagOut] = Field(
        default_factory=list,  # petitions filed before flags existed have none stored
        description="Handling advice from taxonomy.md (not classes): procedures to check before handling, from "
                    "the petition type, the channel and the text.")
    model_version: str


class BatchItemError(BaseModel):
    field: str
    message: str


class BatchResultOut(BaseModel):
    id: str | int | None
    result: TriageOut | None = None
    errors: list[BatchItemError] | None = None


class BatchOut(BaseModel):
    results: list[BatchResultOut]


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)


class PetitionCreate(ClassifyRequest):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "text": EXAMPLE_TEXT, "channel": "web", "received_at": "2026-11-23T09:30:00+07:00",
        "contact": {"name": "Nguyễn Văn An", "phone": "0912345678"},
        "external_ref": "HOTLINE-2026-000123", "idempotency_key": "hotline-000123",
    }]})

    received_at: datetime | None = Field(default=None, description="When the petition arrived; default now. "
                                                                    "Without a zone it is read as Vietnam time.")
    contact: Contact | None = None
    external_ref: str | None = Field(default=None, max_length=200, description="Reference in the hotline system.")
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200,
                                        description="Re-posting with the same key returns the first result.")

    @field_validator("received_at")
    @classmethod
    def _zone(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=VIETNAM_TZ)
        return value


class EventOut(BaseModel):
    at: datetime
    kind: str
    source: str
    actor: str | None
    changes: dict[str, Any]
    model_version: str | None
    rule: str | None
    note: str | None


class DecisionOut(BaseModel):
    officer: str
    decided_at: datetime
    sector: str
    petition_type: str
    urgency: str
    department: str
    status: str | None
    previous: dict[str, Any]
    model_version: str
    confirmed: bool
    note: str | None


class PetitionOut(BaseModel):
    id: str
    status: str
    received_at: datetime
    channel: str | None
    external_ref: str | None
    sector: str
    petition_type: str
    urgency: str
    department: str
    province: str | None
    commune: str | None
    needs_review: bool
    accept_due: datetime | None
    resolve_due: datetime | None
    model_version: str
    triage: TriageOut


class PetitionDetailOut(PetitionOut):
    text: str
    contact: dict[str, Any] | None
    history: list[EventOut]
    decisions: list[DecisionOut]


class PetitionPage(BaseModel):
    items: list[PetitionOut]
    next_cursor: str | None


Officer = Annotated[str, Field(min_length=1, max_length=200, description="Who decides (officer id or name).")]


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "officer": "canbo.tiepdan.01", "sector": "ha_tang_do_thi", "petition_type": "kien_nghi_phan_anh",
        "urgency": "cao", "department": "so_xay_dung", "status": "accepted", "note": "Chuyển Sở Xây dựng xử lý",
    }]})

    officer: Officer
    sector: str | None = Field(default=None, description="Omitted: the current value is confirmed.")
    petition_type: str | None = None
    urgency: str | None = None
    department: str | None = None
    status: str | None = Field(default=None, description="New status, following the allowed transitions.")
    note: str | None = Field(default=None, max_length=2000)

    _sector = field_validator("sector")(lambda v: check_code("sector", v))
    _type = field_validator("petition_type")(lambda v: check_code("petition_type", v))
    _urgency = field_validator("urgency")(lambda v: check_code("urgency", v))
    _department = field_validator("department")(lambda v: check_code("department", v))
    _status = field_validator("status")(lambda v: check_code("status", v))


class ErrorOut(BaseModel):
    error: str
    message: str
    fields: list[BatchItemError] | None = None
    request_id: str | None = None
