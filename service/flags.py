"""Handling flags: procedural advice for the officer, from ``taxonomy.md`` ("Handling flags").

They are not classes and no model learns them: each follows from the predicted petition type, the channel
the petition came by and a few phrases of the text, as the taxonomy states them. They warn before the
officer starts the wrong procedure (a denunciation by SMS is information to check, not a Law-on-Denunciation
case; a complaint by hotline needs a signed petition). The phrases are matched on the text without
diacritics, so SMS written without accents is read the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from service.text import fold_diacritics

#: Channels that are not a signed written petition (a web form counts as an app for complaints).
SPOKEN_OR_MESSAGE = frozenset({"sms", "hotline", "transcript"})
COMPLAINT_NOT_SIGNED = SPOKEN_OR_MESSAGE | {"web"}
#: A second petition type at least this probable suggests the text mixes procedures.
MIXED_TYPE_MIN = 0.30
_PROCEDURAL_TYPES = ("khieu_nai", "to_cao", "kien_nghi_phan_anh")


def _phrases(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b")


_ANONYMOUS = _phrases(r"nac danh", r"giau ten", r"(?:khong|ko|k) (?:dam )?(?:neu|de|ghi) ten")
_BEFORE_COURT = _phrases(r"khoi kien", r"kien ra toa", r"toa an (?:\w+ )?(?:da |dang )?(?:thu ly|xet xu|xu)")
_DECIDED_TWICE = _phrases(r"giai quyet (?:khieu nai )?lan (?:hai|2|thu hai)", r"quyet dinh (?:giai quyet )?lan (?:hai|2)")
# "báo nhiều lần" folds to "bao nhieu lan" (how many times): only verbs of petitioning count
_REPEATED = _phrases(r"(?:gui|nop|viet|lam) (?:don )?(?:rat )?nhieu lan",
                     r"(?:phan anh|kien nghi|khieu nai|to cao) (?:rat )?nhieu lan",
                     r"(?:don|gui|phan anh|kien nghi|khieu nai|to cao) lan thu (?:hai|ba|tu|nam|[2-9])",
                     r"(?:tiep tuc|lai) gui don")


@dataclass(frozen=True)
class HandlingFlag:
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


TO_CAO_INFORMAL = HandlingFlag(
    "to_cao_khong_theo_luat",
    "Tố cáo nặc danh hoặc qua tin nhắn, điện thoại: không xử lý theo Luật Tố cáo trừ khi nêu rõ người vi phạm "
    "và có chứng cứ cụ thể; tiếp nhận như thông tin để kiểm tra.")
KHIEU_NAI_NEEDS_SIGNED = HandlingFlag(
    "khieu_nai_can_don_co_chu_ky",
    "Khiếu nại qua đường dây nóng, ứng dụng hoặc tin nhắn: hướng dẫn người khiếu nại gửi đơn có chữ ký đến cơ "
    "quan đã ban hành quyết định.")
KHIEU_NAI_CHECK_ADMISSIBLE = HandlingFlag(
    "khieu_nai_kiem_tra_thu_ly",
    "Kiểm tra điều kiện thụ lý: không thụ lý khiếu nại đã được Tòa án thụ lý hoặc giải quyết, đã có quyết định "
    "giải quyết lần hai, quá 90 ngày không có lý do chính đáng, hoặc đơn không có chữ ký.")
MIXED_PROCEDURES = HandlingFlag(
    "nhieu_noi_dung",
    "Đơn có thể gồm nhiều nội dung (khiếu nại, tố cáo, kiến nghị): tách và xử lý từng nội dung theo thủ tục riêng.")
REPEATED = HandlingFlag(
    "don_lap_lai",
    "Đơn có dấu hiệu gửi lặp lại: kiểm tra vụ việc đã được giải quyết đúng pháp luật chưa; nếu rồi, có thể lưu "
    "đơn mà không xử lý tiếp.")


def handling_flags(text: str, petition_type: str, type_probabilities: dict[str, float],
                   channel: str | None) -> list[HandlingFlag]:
    """The flags that apply to a petition of the predicted ``petition_type`` that came by ``channel``
    (``None`` when the caller did not say: channel-based flags are then left out, not guessed)."""
    folded = fold_diacritics(text.lower())
    flags: list[HandlingFlag] = []
    if petition_type == "to_cao" and (channel in SPOKEN_OR_MESSAGE or _ANONYMOUS.search(folded)):
        flags.append(TO_CAO_INFORMAL)
    if petition_type == "khieu_nai":
        if channel in COMPLAINT_NOT_SIGNED:
            flags.append(KHIEU_NAI_NEEDS_SIGNED)
        if _BEFORE_COURT.search(folded) or _DECIDED_TWICE.search(folded):
            flags.append(KHIEU_NAI_CHECK_ADMISSIBLE)
    runner_up = max((p for code, p in type_probabilities.items() if code in _PROCEDURAL_TYPES and code != petition_type),
                    default=0.0)
    if petition_type in _PROCEDURAL_TYPES and runner_up >= MIXED_TYPE_MIN:
        flags.append(MIXED_PROCEDURES)
    if _REPEATED.search(folded):
        flags.append(REPEATED)
    return flags
