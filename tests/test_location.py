import pytest

from service.location import convert_old_address, find_location, province_key, resolve_province


@pytest.mark.parametrize("text,province,commune", [
    ("nhà em ở P.5 Q.3 bị ngập", "Hồ Chí Minh", "Phường Bàn Cờ"),
    ("phường 5, quận 3", "Hồ Chí Minh", "Phường Bàn Cờ"),
    ("xã Phước Kiển, huyện Nhà Bè, TP.HCM", "Hồ Chí Minh", "Xã Nhà Bè"),
    ("Tôi ở phường Bàn Cờ, hẻm ngập", "Hồ Chí Minh", "Phường Bàn Cờ"),
    ("nha o to 7 phuong quang trung quan ha dong", "Hà Nội", "Phường Hà Đông"),
    ("đặc khu Phú Quốc mất điện cả ngày", "An Giang", "Đặc khu Phú Quốc"),
    ("xa tan phu huyen duc hoa tinh long an", "Tây Ninh", None),
])
def test_old_and_new_addresses_resolve_to_2025_units(text, province, commune):
    location = find_location(text)
    assert location is not None and location.province == province
    if commune:
        assert location.commune == commune
    assert location.original


def test_province_hint_is_used_when_text_names_none():
    assert find_location("đường bị ngập quá", "TP.HCM").province == "Hồ Chí Minh"
    assert find_location("đường bị ngập quá") is None
    # The text wins over the intake office's province.
    assert find_location("tôi ở Đà Nẵng", "Hà Nội").province == "Đà Nẵng"


def test_khu_pho_is_not_a_ward_abbreviation():
    location = find_location("khu phố 3 bị mất điện", "Hồ Chí Minh")
    assert location.commune is None


@pytest.mark.parametrize("written,expected", [("TP.HCM", "Hồ Chí Minh"), ("tinh long an", "Tây Ninh"),
                                              ("Hà Nội", "Hà Nội"), ("Bình Dương", "Hồ Chí Minh"),
                                              ("Quang Binh", "Quảng Trị"), ("Atlantis", None), ("", None)])
def test_resolve_province(written, expected):
    assert resolve_province(written) == expected


def test_convert_complete_old_address_with_underthesea():
    location = convert_old_address("Phường 5, Quận 3, Hồ Chí Minh")
    assert (location.province, location.commune) == ("Hồ Chí Minh", "Phường Bàn Cờ")
    assert province_key("Hồ Chí Minh") == "ho_chi_minh"
