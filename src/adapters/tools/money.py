"""Money as a model reads it: the amount in minor units, the currency, and the price as
people write it (``S/ 1,500.00``), computed in integers."""

from __future__ import annotations

from typing import Any

from talia_core.shared.money import Money

_SYMBOLS = {"PEN": "S/", "USD": "US$", "EUR": "€"}
# ISO 4217 currencies whose minor unit is not a hundredth of the major one.
_DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def displayed(money: Money) -> str:
    """``S/ 150.00`` for 15 000 PEN minor units; a currency without a symbol here by its code."""
    decimals = _DECIMALS.get(money.currency, 2)
    units, fraction = divmod(abs(money.amount), 10**decimals)
    number = f"{units:,}" + (f".{fraction:0{decimals}d}" if decimals else "")
    sign = "-" if money.is_negative else ""
    return f"{sign}{_SYMBOLS.get(money.currency, money.currency)} {number}"


def money_json(money: Money) -> dict[str, Any]:
    return {"amount": money.amount, "currency": money.currency, "display": displayed(money)}
