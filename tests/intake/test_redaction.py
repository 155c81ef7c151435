"""Redaction (脱敏, shared.redaction.redact): what is masked, in every way it is written, and
what is deliberately left alone."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.redaction import PROVINCES, bank_card_valid, id_card_valid, luhn_valid, redact

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_id_check(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def with_luhn(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


def full_width(text: str) -> str:
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in text)


# Chinese filler with no digits: what surrounds a number in a report.
filler = st.text(alphabet="请回电话联系我家住在小区门口摊贩占道，。！：、 ", max_size=12)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
births = st.dates(min_value=date(1930, 1, 1), max_value=date(2026, 12, 31))


@st.composite
def id_cards(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(PROVINCES)))
    region = province + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    born = draw(births)
    serial = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return with_id_check(f"{region}{born:%Y%m%d}{serial}")


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(16, 19))
    body = draw(st.from_regex(rf"(62|4[0-9]|5[1-5]|9[0-9])[0-9]{{{length - 3}}}", fullmatch=True))
    return with_luhn(body)


def written(number: str, style: int) -> str:
    """A phone as people write it: run together, 3-4-4 with spaces or dashes, +86, full-width."""
    if style == 1:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style == 2:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 3:
        return f"+86 {number}"
    if style == 4:
        return full_width(number)
    if style == 5:
        return f"(+86){number[:3]}-{number[3:]}"
    return number


@given(filler, mobiles, st.integers(0, 5), filler)
def test_a_mobile_is_masked_however_it_is_written(
    before: str, number: str, style: int, after: str
) -> None:
    out = redact(before + written(number, style) + after)
    assert out == f"{before}{number[:3]}****{number[-4:]}{after}"


@given(filler, id_cards(), filler)
def test_an_id_card_number_is_masked(before: str, number: str, after: str) -> None:
    out = redact(before + number + after)
    assert out == f"{before}[身份证号****{number[-4:]}]{after}"


@given(filler, bank_cards(), st.booleans(), filler)
def test_a_bank_card_is_masked(before: str, number: str, grouped: bool, after: str) -> None:
    text = " ".join(number[i : i + 4] for i in range(0, len(number), 4)) if grouped else number
    out = redact(before + text + after)
    assert out == f"{before}[银行卡号****{number[-4:]}]{after}"


@given(st.text(max_size=60))
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text, ["王某某"])
    assert redact(once, ["王某某"]) == once


@given(st.text(alphabet=st.characters(exclude_categories=["Nd"]), max_size=60))
def test_text_without_numbers_or_the_name_is_unchanged(text: str) -> None:
    if "王某某" not in text:
        assert redact(text, ["王某某"]) == text


@given(
    st.dates(date(2020, 1, 1), date(2099, 12, 31)), st.from_regex(r"[0-9A-F]{10}", fullmatch=True)
)
@settings(max_examples=1000)
def test_ticket_numbers_are_never_masked(day: date, random_part: str) -> None:
    ticket = f"{day:%Y%m%d}{random_part}"
    assert redact(f"工单{ticket}已办结") == f"工单{ticket}已办结"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("…请回电13912345678，王某某", "…请回电139****5678，王**"),
        ("电话０１０－８７６５４３２１", "电话010-****4321"),
        ("座机010-12345678", "座机010-****5678"),
        ("座机 0571 8765 4321", "座机 0571-****4321"),
        ("座机(0571)87654321", "座机0571-****4321"),
        ("座机057187654321", "座机0571-****4321"),
        ("+86-139-1234-5678找我", "139****5678找我"),
        ("８６１３９１２３４５６７８", "139****5678"),
        ("身份证 110105 19491231 002X", "身份证 [身份证号****002X]"),
        ("身份证号11010519491231002x", "身份证号[身份证号****002X]"),
        ("老身份证130503670401001", "老身份证[身份证号****1001]"),
        ("工资卡6222 0212 3456 7890 128", "工资卡[银行卡号****0128]"),
        ("两个号码13912345678 13812345678", "两个号码139****5678 138****5678"),
        # Shaped exactly like a mobile: masked (the safe side).
        ("15000000000元", "150****0000元"),
    ],
)
def test_masks(text: str, expected: str) -> None:
    assert redact(text, ["王某某"]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "工单20261123A1B2C3D4E5已受理",
        "工单202611231391234567已受理",  # the random part all digits
        "工单2060022927101672A0已受理",  # a 16-digit Luhn-valid run
        "工单202611230115123A00",  # a 15-digit run with a date where an old ID has one
        "2026-11-23 10:00 报修",
        "2026年11月23日、20261123",
        "物业费12,345.67元，押金3000元",
        "阳光社区3号楼2单元502室，长安街100号",
        "订单号1234567890",  # 10 digits, no area code
        "身份证11010519491231002Y",  # not an ID: wrong last character
        "11010519491231003X",  # checksum wrong
        "11010519491331002X",  # month 13
        "6222021234567890123",  # Luhn fails
        "2222222222222222222",  # a 19-digit 2…: not a card
        "2221000000000009",  # a 2-series Mastercard: given up for ticket numbers
        "000105194912310024",  # checksum right, but province 00 does not exist
        "快递单号773012345678901",  # 15 digits, yymmdd 012345 is not a date
        "12345",
        "车牌浙A12345",
    ],
)
def test_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_name_is_masked_only_where_it_is_a_name() -> None:
    assert redact("我是李雷，李雷的电话", ["李雷"]) == "我是李*，李*的电话"
    assert redact("市民反映市民广场噪音", ["市民"]) == "市民反映市民广场噪音"
    assert redact("王先生反映", ["王"]) == "王先生反映"  # one character: not findable
    assert redact("王先生反映", [None, "", "王先生"]) == "王**反映"


def test_checks() -> None:
    assert id_card_valid("11010519491231002X")
    assert id_card_valid("130503670401001")
    assert not id_card_valid("130503671301001")
    assert bank_card_valid("6222021234567890128")
    assert not bank_card_valid("202611231391234567")
