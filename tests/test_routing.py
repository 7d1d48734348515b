"""Routing rules as a truth table: (sector probabilities, text, province) → primary department."""

import pytest

from service.location import Location
from service.routing import default_router


def primary(text, sector, province=None, commune=None, department_probs=None):
    router = default_router()
    location = Location(province, commune, None) if (province or commune) else None
    # Rules only (model weight 0): what the routing table alone decides.
    return router.route(text, {sector: 1.0}, department_probs or {}, location, model_weight=0.0)[0]


@pytest.mark.parametrize("sector,text,department", [
    ("dat_dai", "hàng xóm lấn chiếm đất nhà tôi", "ubnd_xa_phuong"),
    ("dat_dai", "bảng giá đất năm nay quá cao", "so_nong_nghiep_moi_truong"),
    ("xay_dung", "nhà bên cạnh xây thêm tầng không phép", "ubnd_xa_phuong"),
    ("xay_dung", "ban quản trị chung cư không công khai quỹ bảo trì", "so_xay_dung"),
    ("giao_thong", "ổ gà trên quốc lộ 1", "so_xay_dung"),
    ("giao_thong", "CSGT chốt ở ngã tư đòi tiền", "cong_an"),
    ("giao_thong", "hẻm 45 xuống cấp", "ubnd_xa_phuong"),
    ("ha_tang_do_thi", "mat dien tu sang toi gio", "dien_luc"),
    ("ha_tang_do_thi", "nuoc may duc ngau", "cap_nuoc"),
    ("ha_tang_do_thi", "cống thoát nước bị tắc, mưa là ngập", "so_xay_dung"),
    ("moi_truong", "rác không ai thu gom", "ubnd_xa_phuong"),
    ("moi_truong", "nhà máy xả thải ra sông", "so_nong_nghiep_moi_truong"),
    ("y_te", "bệnh viện từ chối cấp cứu", "so_y_te"),
    ("y_te", "cấp lại thẻ BHYT bị chậm", "bhxh"),
    ("lao_dong_xa_hoi", "công ty nợ lương 3 tháng", "so_noi_vu"),
    ("lao_dong_xa_hoi", "công ty trốn đóng bảo hiểm xã hội", "bhxh"),
    ("lao_dong_xa_hoi", "xét hộ nghèo không công bằng", "so_nong_nghiep_moi_truong"),
    ("lao_dong_xa_hoi", "trợ cấp người khuyết tật chưa nhận", "so_y_te"),
    ("tu_phap_ho_tich", "đăng ký khai sinh cho con", "ubnd_xa_phuong"),
    ("tu_phap_ho_tich", "xin phiếu lý lịch tư pháp", "cong_an"),
    ("tu_phap_ho_tich", "bản án có hiệu lực mà chưa thi hành án", "thi_hanh_an_dan_su"),
    ("tai_chinh_thue", "hoàn thuế thu nhập cá nhân", "thue"),
    ("tai_chinh_thue", "hồ sơ đăng ký kinh doanh bị trả", "so_tai_chinh"),
    ("can_bo_tthc", "cán bộ phường hách dịch ở bộ phận một cửa", "ubnd_xa_phuong"),
    ("can_bo_tthc", "cổng dịch vụ công lỗi cả tuần", "van_phong_ubnd"),
    ("khac", "cảm ơn các anh chị", "van_phong_ubnd"),
])
def test_truth_table(sector, text, department):
    assert primary(text, sector).code == department


def test_province_specific_departments_follow_the_province_configuration():
    text = "đề nghị công khai đồ án quy hoạch phân khu"
    assert primary(text, "xay_dung", "Hà Nội").code == "so_quy_hoach_kien_truc"
    assert primary(text, "xay_dung", "Hồ Chí Minh").code == "so_quy_hoach_kien_truc"
    assert primary(text, "xay_dung", "Đà Nẵng").code == "so_xay_dung"
    tour = "công ty lữ hành bỏ rơi khách du lịch"
    assert primary(tour, "van_hoa_thong_tin", "Hà Nội").code == "so_du_lich"
    assert primary(tour, "van_hoa_thong_tin", "Hồ Chí Minh").code == "so_van_hoa_the_thao_du_lich"
    assert primary(tour, "van_hoa_thong_tin").code == "so_van_hoa_the_thao_du_lich"


def test_commune_is_named_and_local_department_names_are_used():
    suggestion = primary("rác không ai thu gom", "moi_truong", "Hồ Chí Minh", "Phường Bàn Cờ")
    assert suggestion.name == "UBND Phường Bàn Cờ" and suggestion.level == "commune"
    assert primary("mất điện", "ha_tang_do_thi", "Hà Nội").name.startswith("Tổng công ty Điện lực Hà Nội")


def test_model_and_rules_combine_with_reasons():
    router = default_router()
    result = router.route("mất điện cả khu", {"ha_tang_do_thi": 0.9, "an_ninh_trat_tu": 0.1},
                          {"dien_luc": 0.8, "so_xay_dung": 0.2}, None, model_weight=0.5)
    assert [d.code for d in result][:2] == ["dien_luc", "so_xay_dung"]
    assert result[0].confidence == pytest.approx(0.5 * 0.8 + 0.5 * 0.9)
    assert "ha_tang.power" in result[0].reason
    assert len(result) <= 3 and all(d.reason for d in result)
