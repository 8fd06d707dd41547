"""What a reminder says, and reading the customer's answer to it.

A reminder goes out ``lead`` before the appointment (``jobs.reminder``); the customer
answers «sí» to confirm or «no» to cancel. Only a whole message that is one of the answers
below counts, so «no sé a qué hora era» is left to the assistant.
"""

from __future__ import annotations

import enum
import string
import unicodedata
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from talia_core.scheduling.model import Appointment, AppointmentStatus
from talia_core.scheduling.spoken import spoken

HOW_TO_ANSWER = "Responde SÍ para confirmar o NO para cancelar."


class ReminderAnswer(enum.StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"


_ANSWERS = {
    ReminderAnswer.CONFIRM: frozenset(
        {
            "si", "sii", "siii", "ok", "okay", "oki", "vale", "claro", "si claro",
            "confirmo", "confirmado", "confirmar", "si confirmo", "ok confirmo", "de acuerdo",
            "alli estare", "ahi estare", "👍",
        }
    ),
    ReminderAnswer.CANCEL: frozenset(
        {
            "no", "noo", "cancelar", "cancela", "cancelo", "cancelala", "no puedo",
            "no podre", "no voy", "no ire", "no gracias", "no puedo ir", "cancelar cita",
        }
    ),
}  # fmt: skip
_STRIPPED = string.punctuation + "¡¿«»“” \t\n\u2018\u2019"


def normalized(text: str) -> str:
    """Lower case, without accents, surrounding punctuation or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = (word.strip(_STRIPPED) for word in plain.split())
    return " ".join(word for word in words if word)


def read_answer(text: str) -> ReminderAnswer | None:
    """The answer a message gives to a reminder, if it is one."""
    said = normalized(text)
    return next((answer for answer, words in _ANSWERS.items() if said in words), None)


def awaits_answer(appointment: Appointment, lead: timedelta, now: datetime) -> bool:
    """Reminded and not answered yet: still booked (neither confirmed nor cancelled), the
    reminder's moment passed, and booked before it (an appointment booked within ``lead``
    of its start gets no reminder)."""
    due = appointment.starts_at - lead
    return (
        appointment.status is AppointmentStatus.BOOKED
        and appointment.created_at < due <= now < appointment.starts_at
    )


def reminder_parameters(appointment: Appointment, zone: ZoneInfo) -> tuple[str, str]:
    """The reminder template's body parameters: the customer's name, when (in ``zone``)."""
    return (appointment.customer_name or "cliente", spoken(appointment.starts_at.astimezone(zone)))


def reminder_text(appointment: Appointment, zone: ZoneInfo) -> str:
    name, when = reminder_parameters(appointment, zone)
    return f"Hola {name}, te recordamos tu cita del {when}. {HOW_TO_ANSWER}"


def acknowledgement(answer: ReminderAnswer, appointment: Appointment, zone: ZoneInfo) -> str:
    when = spoken(appointment.starts_at.astimezone(zone))
    if answer is ReminderAnswer.CONFIRM:
        return f"¡Gracias! Tu cita del {when} quedó confirmada. ✅"
    return f"Listo, cancelamos tu cita del {when}. Si quieres otra fecha, escríbenos."
