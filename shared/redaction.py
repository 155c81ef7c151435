"""Redaction (脱敏): personal numbers and the citizen's own name masked in free text.

Citizens type their phone, ID-card and bank-card numbers, and names, into what they report
("…请回电13912345678，王某某"). Every text that leaves intake (events, other roles' views,
Open311, exports) passes through `redact`; operators still see the original.

What is masked (on a copy where full-width digits, ＋, －, （） and the ideographic space read as
their ASCII forms, so "１３９１２３４５６７８" is a phone too):
- ID-card numbers (身份证号): 18 characters (17 digits and a digit or X, the ISO 7064 checksum
  a province code and a real date of birth checked) or the old 15 digits (a province and a
  real yymmdd date) →
  `[身份证号****002X]`. Written in groups (6 8 4) too.
- bank-card numbers (银行卡号): 16–19 digits, Luhn-checked, starting 3, 4, 5, 6 or 9,
  written in groups of four or not → `[银行卡号****1234]`.
- mainland mobiles: 1[3-9] and 9 more digits, with spaces or dashes anywhere, an optional +86,
  0086 or 86 in front → `139****5678`.
- landlines with an area code (010, 02x, 0xxx) and a 7–8 digit local number (not starting 0),
  written 010-12345678, (0571)87654321, 0571 8765 4321 or run together → `0571-****4321`.
- the citizen's name, where it occurs verbatim (2 characters or more, not a word such as
  市民 or 先生) → `王**` (surname kept).

What is deliberately left alone: any number glued to more digits (a longer run is not one of the
above), so ticket numbers (20261123A1B2C3D4E5, or one whose random part starts with digits:
every digit run of it starts with 20, which is no province and no card issuer), dates (2026-11-23, 2026年11月23日), amounts (12,345.67元), house numbers (3号楼502室),
short codes, and numbers that fail their checksum. A number of exactly the shape of a mobile
(15000000000元) is masked: more redaction is the safe side.

Names in free text other than the citizen's own cannot be found reliably and are not touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

# Same length in and out, so positions found on the normalised copy hold in the original.
_HALF_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "＋": "+",
        "－": "-",
        "（": "(",
        "）": ")",
        "\u3000": " ",
        "Ｘ": "X",
        "ｘ": "x",
    }
)

_ANY_DIGIT = re.compile(r"\d")  # any decimal digit, full-width ones too, as the rules read them
_ID18 = re.compile(r"(?<!\d)\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx](?![\dXx])")
_ID15 = re.compile(r"(?<!\d)\d{15}(?!\d)")
_CARD = re.compile(r"(?<!\d)\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?!\d)")
_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ -]?|\(\+?86\)[ -]?)?1[3-9](?:[ -]?\d){9}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3})[ -]?\d{3,4}[ -]?\d{4}(?!\d)")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# The province (first two digits) of an ID-card number (GB/T 2260; 71 台湾, 81 香港, 82 澳门).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82".split()
)
_ID_CHECK = "10X98765432"

# Words gateways put where a name goes that are not anyone's name.
NOT_NAMES = frozenset({"市民", "群众", "居民", "先生", "女士", "匿名", "网友", "用户", "业主"})


def redact(text: str, names: Iterable[str | None] = ()) -> str:
    """The text with ID-card, bank-card and phone numbers masked (脱敏), and each of `names`
    (the citizen's own) where it occurs verbatim. Pure and idempotent; text without such
    numbers or names comes back unchanged."""
    if not text:
        return text
    # Every number masked has digits: most reports have none, and skip the five searches.
    result = _numbers_masked(text) if _ANY_DIGIT.search(text) else text
    for name in sorted({n.strip() for n in names if n}, key=len, reverse=True):
        if len(name) >= 2 and name not in NOT_NAMES and not name.isdigit():
            result = result.replace(name, name[0] + "*" * (len(name) - 1))
    return result


def _numbers_masked(text: str) -> str:
    """The text with each number of `_RULES` masked, the first rule to claim a span winning."""
    normalised = text.translate(_HALF_WIDTH)
    taken = [False] * len(text)
    spans: list[tuple[int, int, str]] = []
    for pattern, mask in _RULES:
        for found in pattern.finditer(normalised):
            start, end = found.span()
            if any(taken[start:end]):
                continue
            masked = mask(found.group())
            if masked is not None:
                spans.append((start, end, masked))
                taken[start:end] = [True] * (end - start)
    out, at = [], 0
    for start, end, masked in sorted(spans):
        out.append(text[at:start])
        out.append(masked)
        at = end
    out.append(text[at:])
    return "".join(out)


def redact_optional(text: str | None, names: Iterable[str | None] = ()) -> str | None:
    """`redact` for a text that may be missing."""
    return None if text is None else redact(text, names)


def mask_name(name: str | None) -> str | None:
    """王** : the surname kept, the rest starred (a name of one character is starred whole)."""
    if not name:
        return name
    name = name.strip()
    if len(name) < 2:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    """138****5678: a phone as everyone but an authorised operator sees it."""
    if not phone:
        return None
    if len(phone) <= 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


# ---------------------------------------------------------------------------- the kinds


def _digits(raw: str) -> str:
    return "".join(c for c in raw if c.isdigit() or c in "Xx").upper()


def id_card_valid(number: str) -> bool:
    """An 18-character ID-card number: a province, a real date of birth, the ISO 7064
    checksum; or a 15-digit one (before 1999): a province and a real yymmdd date."""
    if len(number) == 15 and number.isdigit():
        return number[:2] in PROVINCES and _real_date(1900 + int(number[6:8]), number[8:12])
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if number[:2] not in PROVINCES or not _real_date(int(number[6:10]), number[10:14]):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def _real_date(year: int, month_day: str) -> bool:
    if not 1900 <= year <= 2099:
        return False
    try:
        date(year, int(month_day[:2]), int(month_day[2:]))
    except ValueError:
        return False
    return True


def luhn_valid(number: str) -> bool:
    """The Luhn check digit bank cards end with."""
    total = 0
    for i, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def bank_card_valid(number: str) -> bool:
    """16–19 digits, Luhn-valid, an issuer prefix (3 JCB/Amex, 4 Visa, 5 Mastercard, 6 UnionPay,
    9 older domestic cards). Not 2: every digit run of a ticket number starts with the year
    (20…), so Mastercard's rare 2-series cards are given up to keep ticket numbers whole."""
    if not 16 <= len(number) <= 19 or not number.isdigit():
        return False
    return number[0] in "34569" and luhn_valid(number)


def _mask_id(raw: str) -> str | None:
    number = _digits(raw)
    return f"[身份证号****{number[-4:]}]" if id_card_valid(number) else None


def _mask_card(raw: str) -> str | None:
    number = _digits(raw)
    return f"[银行卡号****{number[-4:]}]" if bank_card_valid(number) else None


def _mask_mobile(raw: str) -> str | None:
    number = _digits(raw)
    number = number[-11:]  # the +86 / 0086 / 86 prefix dropped
    return mask_phone(number)


def _mask_landline(raw: str) -> str | None:
    explicit = re.match(r"\(?(0\d{2,3})\)?[ -]", raw) or re.match(r"\((0\d{2,3})\)", raw)
    number = _digits(raw)
    if explicit:
        area = explicit.group(1)
    else:
        area = number[:3] if number.startswith(("010", "02")) else number[:4]
    local = number[len(area) :]
    if not (area == "010" or area.startswith("02") or len(area) == 4):
        return None
    if not 7 <= len(local) <= 8 or local[0] == "0":
        return None
    return f"{area}-****{local[-4:]}"


_RULES: tuple[tuple[re.Pattern[str], Callable[[str], str | None]], ...] = (
    (_ID18, _mask_id),
    (_ID15, _mask_id),
    (_CARD, _mask_card),
    (_MOBILE, _mask_mobile),
    (_LANDLINE, _mask_landline),
)
