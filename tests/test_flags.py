"""Handling flags (taxonomy.md): procedural advice from the petition type, the channel and the text."""

import io
import json

import pytest

from service.batch import classify_stream
from service.flags import handling_flags


def codes(text: str, petition_type: str, channel: str | None, probabilities: dict[str, float] | None = None):
    return [f.code for f in handling_flags(text, petition_type, probabilities or {petition_type: 0.9}, channel)]


@pytest.mark.parametrize("channel", ["sms", "hotline", "transcript"])
def test_a_denunciation_by_message_or_phone_is_information_to_check(channel):
    assert codes("to truong dan pho thu tien sai quy dinh", "to_cao", channel) == ["to_cao_khong_theo_luat"]


def test_an_anonymous_written_denunciation_is_flagged_and_a_signed_one_is_not():
    assert codes("Tôi xin phép không nêu tên. Ông Trưởng phòng X nhận tiền của dân.", "to_cao", "letter") == [
        "to_cao_khong_theo_luat"]
    assert codes("tui xin giau ten, ong can bo dia chinh an tien", "to_cao", "web") == ["to_cao_khong_theo_luat"]
    assert codes("Tôi là Nguyễn Văn An, tố cáo ông Trưởng phòng X nhận tiền của dân.", "to_cao", "letter") == []


def test_a_complaint_not_in_a_signed_petition_must_be_refiled_by_the_writer():
    assert codes("khieu nai quyet dinh xu phat toi", "khieu_nai", "hotline") == ["khieu_nai_can_don_co_chu_ky"]
    assert codes("khieu nai quyet dinh xu phat toi", "khieu_nai", "web") == ["khieu_nai_can_don_co_chu_ky"]
    assert codes("Tôi khiếu nại quyết định xử phạt", "khieu_nai", "letter") == []
    assert codes("Tôi khiếu nại quyết định xử phạt", "khieu_nai", None) == []  # unknown channel: not guessed


def test_a_complaint_before_a_court_or_decided_twice_is_checked_for_admissibility():
    assert "khieu_nai_kiem_tra_thu_ly" in codes("Việc này tôi đã khởi kiện ra Tòa án huyện", "khieu_nai", "letter")
    assert "khieu_nai_kiem_tra_thu_ly" in codes("da co quyet dinh giai quyet lan 2 nhung toi khong dong y",
                                                "khieu_nai", "letter")
    # the same words in a proposal are not a complaint's admissibility question
    assert codes("Việc này tôi đã khởi kiện ra Tòa án huyện", "kien_nghi_phan_anh", "letter") == []


def test_a_second_likely_procedure_suggests_splitting_the_petition():
    mixed = {"khieu_nai": 0.55, "to_cao": 0.38, "kien_nghi_phan_anh": 0.05, "hoi_dap": 0.02}
    clear = {"khieu_nai": 0.85, "to_cao": 0.10, "kien_nghi_phan_anh": 0.03, "hoi_dap": 0.02}
    assert codes("...", "khieu_nai", "letter", mixed) == ["nhieu_noi_dung"]
    assert codes("...", "khieu_nai", "letter", clear) == []
    # a question that might also be a proposal is not two procedures
    assert codes("...", "hoi_dap", "letter", {"hoi_dap": 0.5, "kien_nghi_phan_anh": 0.45}) == []


def test_repeat_petitions_are_flagged_but_how_many_times_questions_are_not():
    assert codes("Tôi đã gửi đơn nhiều lần từ năm 2023", "kien_nghi_phan_anh", "letter") == ["don_lap_lai"]
    assert codes("day la lan thu ba toi phan anh", "kien_nghi_phan_anh", "sms") == []  # "lần thứ ba tôi": no verb
    assert codes("toi phan anh lan thu ba ve viec nay", "kien_nghi_phan_anh", "sms") == ["don_lap_lai"]
    # "báo nhiều lần" and "bao nhiêu lần" fold to the same letters: neither counts
    assert codes("phai nop ho so bao nhieu lan", "hoi_dap", "sms") == []


def test_flags_reach_the_result_and_follow_the_predicted_type(triager):
    text = "to cao ong to truong khu pho 3 thu tien ve sinh cua dan roi bo tui rieng, ko co bien lai"
    by_sms = triager.triage(text, channel="sms")
    by_letter = triager.triage(text, channel="letter")
    assert by_sms.as_dict()["flags"] == [f.as_dict() for f in by_sms.flags]
    sms_codes = {f.code for f in by_sms.flags}
    assert ("to_cao_khong_theo_luat" in sms_codes) == (by_sms.petition_type.code == "to_cao")
    assert "to_cao_khong_theo_luat" not in {f.code for f in by_letter.flags}


def test_batch_cli_reads_the_channel_and_refuses_an_unknown_one(triager):
    lines = [{"id": 1, "text": "khieu nai quyet dinh phat toi 5 trieu", "channel": "sms"},
             {"id": 2, "text": "khieu nai quyet dinh phat toi 5 trieu", "channel": "fax"}]
    sink = io.StringIO()
    summary = classify_stream(triager, io.StringIO("\n".join(json.dumps(line) for line in lines)), sink)
    first, second = (json.loads(line) for line in sink.getvalue().splitlines())
    assert summary.classified == 1 and summary.errors == 1
    assert "flags" in first and "'channel'" in second["error"] and "fax" in second["error"]
