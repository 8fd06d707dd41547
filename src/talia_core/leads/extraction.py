"""Facts read from a customer's message by rules held as data, for the offline assistant.

What each fact looks for is its criteria's data (``near`` words, a choice's phrases); how a
Spanish date, number or amount in soles is written is the grammar below:

- dates: «el 14 de febrero», «14 de febrero de 2027», «14/02», «14-02-2027»; a date
  without a year is its next occurrence from ``today`` (in the business's time zone);
- counts: a number followed, at most two words later, by one of the fact's ``near`` words:
  «unos 120 invitados», «seremos 80 personas», «cien invitados», «1.200 asistentes»;
- amounts in soles: «S/ 2,500», «S/. 1.500,50», «3000 soles», «3 mil soles», «mil
  quinientos soles», kept as integer céntimos;
- choices: one of a choice's phrases as whole words, accents and case ignored.

A fact with ``near`` words (dates, amounts) is only read from a message that has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from talia_core.leads.criteria import Criteria, FactKind, FactRule, FactValue, fold
from talia_core.shared.money import Money

CURRENCY = "PEN"

MONTHS = {
    "enero": 1,
    "febrero": 2,
    "marzo": 3,
    "abril": 4,
    "mayo": 5,
    "junio": 6,
    "julio": 7,
    "agosto": 8,
    "septiembre": 9,
    "setiembre": 9,
    "octubre": 10,
    "noviembre": 11,
    "diciembre": 12,
}
UNITS = {
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13,
    "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17, "dieciocho": 18,
    "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintidos": 22, "veinticinco": 25,
    "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70,
    "ochenta": 80, "noventa": 90, "cien": 100, "ciento": 100, "doscientos": 200,
    "doscientas": 200, "trescientos": 300, "trescientas": 300, "cuatrocientos": 400,
    "cuatrocientas": 400, "quinientos": 500, "quinientas": 500, "seiscientos": 600,
    "seiscientas": 600, "setecientos": 700, "setecientas": 700, "ochocientos": 800,
    "ochocientas": 800, "novecientos": 900, "novecientas": 900,
}  # fmt: skip
"""Number words, folded (no accents): enough to say guest counts and budgets."""

_DIGITS = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_WORD = "|".join(sorted(UNITS, key=len, reverse=True))
_WORDS = rf"(?:(?:{_WORD}|mil|y)\s+)*(?:{_WORD}|mil)"
_NUMBER = rf"(?:(?:{_DIGITS})(?:\s+mil)?|{_WORDS})"
_DATE_WORDS = re.compile(
    rf"\b(\d{{1,2}})\s+de\s+({'|'.join(MONTHS)})(?:\s+(?:de|del)\s+(\d{{4}}))?\b"
)
_DATE_DIGITS = re.compile(r"\b(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2}|\d{4}))?\b")
_SOLES_BEFORE = re.compile(rf"(?:s/\.?|pen)\s*({_NUMBER})(?![\d])")
_SOLES_AFTER = re.compile(rf"\b({_NUMBER})\s*(?:soles|lucas)\b")


def extract(text: str, criteria: Criteria, today: date) -> dict[str, FactValue]:
    """The facts ``text`` states, by the criteria's names; those it does not are absent."""
    folded = fold(text)
    found: dict[str, FactValue] = {}
    for rule in criteria.facts:
        value = _read(rule, folded, today)
        if value is not None:
            found[rule.name] = value
    return found


def _read(rule: FactRule, text: str, today: date) -> FactValue | None:
    if rule.kind is FactKind.CHOICE:
        return _choice(rule, text)
    if rule.kind is FactKind.COUNT:
        return _count(rule, text)
    if rule.near and not any(_has(text, word) for word in rule.near):
        return None
    if rule.kind is FactKind.DATE:
        return next(iter(dates(text, today)), None)
    if rule.kind is FactKind.MONEY:
        return next(iter(amounts(text)), None)
    return None  # free text is for a model or a person to write


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}", text) is not None


def _choice(rule: FactRule, text: str) -> str | None:
    found = [
        (match.start(), key)
        for key, phrases in rule.choices.items()
        for phrase in phrases
        for match in re.finditer(rf"\b{re.escape(phrase)}\b", text)
    ]
    return min(found)[1] if found else None


def _count(rule: FactRule, text: str) -> int | None:
    if not rule.near:
        return None
    near = "|".join(re.escape(word) for word in rule.near)
    pattern = rf"\b({_NUMBER})\s+(?:\w+\s+){{0,2}}?(?:{near})"
    for match in re.finditer(pattern, text):
        value = number(match.group(1))
        if value is not None:
            return value
    return None


def dates(text: str, today: date) -> Iterator[str]:
    """ISO dates written in ``text`` (folded), in order; impossible ones are skipped."""
    for match in _DATE_WORDS.finditer(text):
        found = _date(today, int(match[1]), MONTHS[match[2]], match[3])
        if found is not None:
            yield found
    for match in _DATE_DIGITS.finditer(text):
        found = _date(today, int(match[1]), int(match[2]), match[3])
        if found is not None:
            yield found


def _date(today: date, day: int, month: int, year: str | None) -> str | None:
    try:
        if year is not None:
            full = int(year) + (2000 if len(year) == 2 else 0)
            return date(full, month, day).isoformat()
        candidate = date(today.year, month, day)
        if candidate < today:
            candidate = date(today.year + 1, month, day)
        return candidate.isoformat()
    except ValueError:
        return None


def amounts(text: str) -> Iterator[int]:
    """Amounts in soles written in ``text`` (folded), as céntimos, in order."""
    matches = sorted([*_SOLES_BEFORE.finditer(text), *_SOLES_AFTER.finditer(text)],
                     key=lambda m: m.start())  # fmt: skip
    for match in matches:
        value = _centimos(match.group(1))
        if value is not None:
            yield Money(value, CURRENCY).amount


def number(written: str) -> int | None:
    """A whole number written with digits («1.200», «3 mil») or words («ciento veinte»)."""
    centimos = _centimos(written)
    return None if centimos is None else centimos // 100


def _centimos(written: str) -> int | None:
    written = written.strip()
    thousands = written.endswith(" mil") and written[0].isdigit()
    if thousands:
        written = written[: -len(" mil")].strip()
    value: int | None
    if written[0].isdigit():
        value = _digits(written)
    else:
        words = _words(written)
        value = None if words is None else words * 100
    if value is None:
        return None
    return value * 1000 if thousands else value


def _digits(written: str) -> int:
    """«2,500» and «2.500» are thousands; «2500.50» and «1.500,50» carry céntimos."""
    whole, cents = written, "0"
    decimal = re.search(r"[.,](\d{1,2})$", written)
    if decimal is not None:
        whole, cents = written[: decimal.start()], decimal[1].ljust(2, "0")
    return int(re.sub(r"[.,]", "", whole) or "0") * 100 + int(cents)


def _words(written: str) -> int | None:
    total, current = 0, 0
    for word in written.split():
        if word == "y":
            continue
        if word == "mil":
            total += max(current, 1) * 1000
            current = 0
        elif word in UNITS:
            current += UNITS[word]
        else:
            return None
    return total + current
