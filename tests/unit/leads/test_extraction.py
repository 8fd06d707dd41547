"""The extraction rules read facts from how Peruvian customers write them."""

from __future__ import annotations

from datetime import date

import pytest

from talia_core.leads.criteria import FactValue
from talia_core.leads.extraction import amounts, extract, number
from tests.unit.leads.builders import DEMO

TODAY = date(2026, 12, 6)

PHRASINGS: list[tuple[str, dict[str, FactValue]]] = [
    ("Nos casamos el 14 de febrero", {"wedding_date": "2027-02-14"}),
    ("La boda es el 20 de diciembre", {"wedding_date": "2026-12-20"}),
    ("me caso el 3 de enero del 2028", {"wedding_date": "2028-01-03"}),
    ("el matrimonio será el 14/02", {"wedding_date": "2027-02-14"}),
    ("Fecha del evento: 21-03-2027", {"wedding_date": "2027-03-21"}),
    ("La boda es el 6 de diciembre", {"wedding_date": "2026-12-06"}),
    ("Seremos unos 120 invitados", {"guest_count": 120}),
    ("calculamos 80 personas más o menos", {"guest_count": 80}),
    ("vienen como cien invitados", {"guest_count": 100}),
    ("unos ciento cincuenta invitados", {"guest_count": 150}),
    ("Somos 1.200 asistentes", {"guest_count": 1200}),
    ("tenemos un presupuesto de S/ 2,500", {"budget": 250000}),
    ("Tenemos S/. 1.500,50 para esto", {"budget": 150050}),
    ("unos 3000 soles", {"budget": 300000}),
    ("hasta 3 mil soles", {"budget": 300000}),
    ("mil quinientos soles como máximo", {"budget": 150000}),
    ("s/800 nada más", {"budget": 80000}),
    ("Me interesa el plan Premium", {"plan": "premium"}),
    ("quiero el plan básico", {"plan": "essential"}),
    ("la CELEBRACIÓN me gusta", {"plan": "celebration"}),
    ("lo decidimos con mi novia", {"decision_maker": "pareja"}),
    ("yo decido todo", {"decision_maker": "cliente"}),
    (
        "Hola! Nos casamos el 14 de febrero, seremos unos 120 invitados y tenemos S/ 2,500. "
        "Nos gusta el plan premium, lo decidimos los dos",
        {
            "wedding_date": "2027-02-14",
            "guest_count": 120,
            "budget": 250000,
            "plan": "premium",
            "decision_maker": "pareja",
        },
    ),
]


@pytest.mark.parametrize(("text", "facts"), PHRASINGS)
def test_a_real_phrasing_gives_its_facts(text: str, facts: dict[str, FactValue]) -> None:
    assert extract(text, DEMO, TODAY) == facts


@pytest.mark.parametrize(
    "text",
    [
        "Hola, ¿cuánto cuesta?",
        "el 31 de febrero",  # no such day
        "tengo 120 fotos",  # a number with no word of the fact
        "mi teléfono es 987654321",
        "quiero ver el plan",
    ],
)
def test_words_that_state_no_fact_give_none(text: str) -> None:
    assert extract(text, DEMO, TODAY) == {}


def test_a_date_without_its_words_is_not_taken_for_the_wedding() -> None:
    assert extract("el pago lo hago el 14 de febrero", DEMO, TODAY) == {}


@pytest.mark.parametrize(
    ("written", "value"),
    [("veinticinco", 25), ("doscientos treinta y cinco", 235), ("2 mil", 2000), ("1,200", 1200)],
)
def test_numbers_are_read_in_words_and_digits(written: str, value: int) -> None:
    assert number(written) == value


def test_amounts_are_read_in_the_order_written() -> None:
    assert list(amounts("s/ 100 o 250 soles")) == [10000, 25000]
