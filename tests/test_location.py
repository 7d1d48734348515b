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


@pytest.mark.parametrize("text,province", [
    ("be nha e hoc o P.Tan Phong Bien Hoa bi ngo doc", "Đồng Nai"),   # old city named after the ward, no unit
    ("P.An Khanh Ninh Kieu co nhom doi no", "Cần Thơ"),
    ("sạt lở trên đường hồ chí minh qua xã khâm đức quảng nam cũ", "Đà Nẵng"),  # a road, not the city
    ("xã Kim Sơn, Ninh Bình, con tôi làm ở Hà Nội", "Ninh Bình"),  # the ward decides between provinces named
    ("mat dien o dien bien", "Điện Biên"),  # without diacritics a bare name still counts
])
def test_context_around_a_mention_decides_the_province(text, province):
    assert find_location(text).province == province


@pytest.mark.parametrize("text", [
    "có hai đường ống nước bị vỡ",        # "hai đường" folds to Hải Dương
    "tình hình diễn biến phức tạp",       # "diễn biến" folds to Điện Biên
    "ủy ban xã tự ý thu tiền",            # "xã tự": a lowercase word after the unit is not a commune
    "phuong ho tro cho dan",              # "phường hỗ trợ", written without diacritics
])
def test_ordinary_words_are_not_places(text):
    assert find_location(text) is None
