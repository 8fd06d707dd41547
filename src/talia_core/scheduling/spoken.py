"""Moments as a Spanish-speaking customer reads them: ``martes 3 de marzo, 10:00``."""

from __future__ import annotations

from datetime import datetime

WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip


def spoken(moment: datetime) -> str:
    """``martes 3 de marzo, 10:00`` in the moment's own zone."""
    return (
        f"{WEEKDAYS[moment.weekday()]} {moment.day} de {MONTHS[moment.month - 1]}, {moment:%H:%M}"
    )
