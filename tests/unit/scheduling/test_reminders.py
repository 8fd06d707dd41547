"""Appointment reminders on fakes: sent once on the booking's channel, and the customer's
«sí» confirms, «no» cancels; anything else goes to the assistant as usual."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.channels.webchat import InProcessLiveFeed
from adapters.memory.channels import FakeChannelSender, FakeMediaDownloader
from adapters.memory.database import InMemoryDatabase
from adapters.memory.files import InMemoryFileStore
from adapters.memory.scheduling import InMemoryCalendar
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.conversations.events import InboundMessage
from talia_core.conversations.messages import Message, Template
from talia_core.conversations.pipeline import ConversationPipeline
from talia_core.conversations.ports import ConversationFilter, Outbound
from talia_core.conversations.reminders import Reminders, reminder_consumer
from talia_core.conversations.vocabulary import Author, Channel, MessageType
from talia_core.scheduling.answers import ReminderAnswers
from talia_core.scheduling.model import Appointment, AppointmentStatus, TimeRange
from talia_core.scheduling.reminders import ReminderAnswer, awaits_answer, read_answer
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.clock import FakeClock
from talia_core.shared.ids import new_id
from talia_core.shared.jobs import JobRunner
from talia_core.shared.outbox_relay import OutboxRelay
from talia_core.shared.pagination import PageRequest
from tests.contracts.conversations.awaited_answers import AwaitedAnswersContract
from tests.unit.conversations.conftest import RecordingAssistant, no_wait, webchat, whatsapp
from tests.unit.scheduling.builders import NOW, lima_rules
from tests.unit.scheduling.test_slots import lima

LEAD = timedelta(hours=24)
TEMPLATE = Template("recordatorio_cita", "es")


@attrs.define
class Office:
    """Conversations and scheduling over one in-memory database, wired as the container
    wires them: the reminder consumer on the relay, reminder answers before the assistant."""

    database: InMemoryDatabase
    clock: FakeClock
    calendar: InMemoryCalendar
    scheduling: SchedulingService
    pipeline: ConversationPipeline
    runner: JobRunner
    senders: dict[Channel, FakeChannelSender]
    assistant: RecordingAssistant

    async def run_jobs(self, after: timedelta = timedelta(seconds=3)) -> None:
        self.clock.advance(after)
        while await self.runner.run_due(100):
            pass

    async def writes(self, event: InboundMessage) -> str:
        """The customer writes; the contact's id."""
        message = await self.pipeline.ingest(event)
        assert message is not None
        await self.run_jobs()
        async with InMemoryUnitOfWork(self.database, read_only=True) as uow:
            conversation = await uow.conversations.get(message.conversation_id)
        return conversation.contact_id

    async def books(self, contact_id: str, channel: Channel, day: int = 4) -> Appointment:
        return await self.scheduling.book(
            starts_at=lima(day, 9),
            contact_id=contact_id,
            customer_name="Ana",
            channel=channel.value,
            booked_by="assistant:recepcion",
        )

    async def messages(self) -> list[Message]:
        async with InMemoryUnitOfWork(self.database, read_only=True) as uow:
            [conversation] = (
                await uow.conversations.find(PageRequest(), ConversationFilter())
            ).items
            return list((await uow.messages.find(conversation.id, PageRequest())).items)[::-1]


@pytest.fixture
def office() -> Office:
    database = InMemoryDatabase()
    clock = FakeClock(NOW)
    uow = partial(InMemoryUnitOfWork, database)
    calendar = InMemoryCalendar()
    scheduling = SchedulingService(uow, calendar, lima_rules(), clock, reminder_lead=LEAD)
    senders = {channel: FakeChannelSender() for channel in Channel}
    assistant = RecordingAssistant()
    pipeline = ConversationPipeline(
        uow,
        clock,
        senders=senders,
        downloaders=dict.fromkeys(Channel, FakeMediaDownloader()),
        files=InMemoryFileStore(),
        assistant=assistant,
        live=InProcessLiveFeed(),
        debounce=timedelta(seconds=2),
        answers=ReminderAnswers(scheduling, lead=LEAD),
    )
    reminders = Reminders(uow, clock, templates={Channel.WHATSAPP: TEMPLATE})
    relay = OutboxRelay(uow, clock, [reminder_consumer(reminders)])
    handlers = {
        **pipeline.job_handlers(),
        **relay.job_handlers(),
        **scheduling.job_handlers(),
    }
    runner = JobRunner(uow, clock, handlers, no_wait)
    return Office(database, clock, calendar, scheduling, pipeline, runner, senders, assistant)


async def reminded(office: Office, channel: Channel = Channel.WHATSAPP) -> Appointment:
    """A customer who wrote, booked Wednesday 4 March 09:00 in Lima, and was reminded."""
    event = whatsapp("hola") if channel is Channel.WHATSAPP else webchat("hola", session="s-1")
    contact_id = await office.writes(event)
    appointment = await office.books(contact_id, channel)
    await office.run_jobs(lima(3, 9) - office.clock.now())
    office.clock.advance(timedelta(minutes=5))  # the customer reads it
    return appointment


def sent_reminders(office: Office, channel: Channel) -> list[Outbound]:
    return [
        m
        for m in office.senders[channel].sent
        if m.type is MessageType.TEMPLATE or "recordamos" in (m.text or "")
    ]


async def test_the_reminder_goes_out_once_as_the_whatsapp_template_with_name_and_time(
    office: Office,
) -> None:
    appointment = await reminded(office)
    await office.scheduling.remind(appointment.id)  # the reminder job ran a second time
    await office.run_jobs()

    [reminder] = sent_reminders(office, Channel.WHATSAPP)
    assert reminder.to.value == "51987654321"
    assert reminder.template == Template(
        "recordatorio_cita", "es", ("Ana", "miércoles 4 de marzo, 09:00")
    )
    messages = await office.messages()
    assert [(m.author, m.type) for m in messages][-1] == (Author.BOT, MessageType.TEMPLATE)


async def test_a_web_chat_visitor_is_reminded_in_words_saying_how_to_answer(
    office: Office,
) -> None:
    await reminded(office, Channel.WEBCHAT)

    [reminder] = sent_reminders(office, Channel.WEBCHAT)
    assert reminder.text == (
        "Hola Ana, te recordamos tu cita del miércoles 4 de marzo, 09:00. "
        "Responde SÍ para confirmar o NO para cancelar."
    )


async def test_si_confirms_the_reminded_appointment_and_the_assistant_is_not_asked(
    office: Office,
) -> None:
    appointment = await reminded(office)
    turns = len(office.assistant.turns)

    await office.writes(whatsapp("Sí!"))

    confirmed = await office.scheduling.get(appointment.id)
    assert confirmed.status is AppointmentStatus.CONFIRMED
    assert len(office.assistant.turns) == turns
    assert office.senders[Channel.WHATSAPP].sent[-1].text == (
        "¡Gracias! Tu cita del miércoles 4 de marzo, 09:00 quedó confirmada. ✅"
    )


async def test_no_puedo_cancels_it_and_frees_the_calendar(office: Office) -> None:
    appointment = await reminded(office)

    await office.writes(whatsapp("no puedo"))

    cancelled = await office.scheduling.get(appointment.id)
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert (cancelled.cancelled_by or "").startswith("contact:")
    assert await office.calendar.busy("front-desk", lima(4, 0), lima(5, 0)) == []
    assert (office.senders[Channel.WHATSAPP].sent[-1].text or "").startswith("Listo, cancelamos")


async def test_an_answer_counts_once_then_the_assistant_answers_again(office: Office) -> None:
    appointment = await reminded(office)
    await office.writes(whatsapp("ok"))
    turns = len(office.assistant.turns)

    await office.writes(whatsapp("no"))

    assert (await office.scheduling.get(appointment.id)).status is AppointmentStatus.CONFIRMED
    assert len(office.assistant.turns) == turns + 1


async def test_si_without_a_reminder_goes_to_the_assistant(office: Office) -> None:
    contact_id = await office.writes(whatsapp("hola"))
    appointment = await office.books(contact_id, Channel.WHATSAPP)

    await office.writes(whatsapp("sí"))

    assert (await office.scheduling.get(appointment.id)).status is AppointmentStatus.BOOKED
    assert office.assistant.turns[-1].unanswered[-1].text == "sí"


async def test_a_question_after_the_reminder_goes_to_the_assistant(office: Office) -> None:
    appointment = await reminded(office)

    await office.writes(whatsapp("no sé a qué hora era"))

    assert (await office.scheduling.get(appointment.id)).status is AppointmentStatus.BOOKED
    assert office.assistant.turns[-1].unanswered[-1].text == "no sé a qué hora era"


def an_appointment(created_at: datetime, starts_at: datetime) -> Appointment:
    return Appointment.book(
        calendar_id="front-desk",
        slot=TimeRange(starts_at, starts_at + timedelta(minutes=30)),
        contact_id="c-1",
        customer_name="Ana",
        channel="whatsapp",
        note=None,
        booked_by="tests",
        at=created_at,
    )


def test_an_appointment_booked_within_the_lead_awaits_no_answer() -> None:
    starts = datetime(2026, 3, 4, 14, tzinfo=UTC)
    late = an_appointment(starts - timedelta(hours=2), starts)
    early = an_appointment(starts - timedelta(days=3), starts)
    now = starts - timedelta(hours=1)

    assert not awaits_answer(late, LEAD, now)
    assert awaits_answer(early, LEAD, now)
    assert not awaits_answer(early, LEAD, starts - LEAD - timedelta(minutes=1))
    assert not awaits_answer(early, LEAD, starts)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Sí", ReminderAnswer.CONFIRM),
        ("si, confirmo", ReminderAnswer.CONFIRM),
        ("OK!!", ReminderAnswer.CONFIRM),
        ("NO", ReminderAnswer.CANCEL),
        ("¡Cancelar!", ReminderAnswer.CANCEL),
        ("no puedo", ReminderAnswer.CANCEL),
        ("no sé", None),
        ("sí pero más tarde", None),
        ("", None),
    ],
)
def test_only_a_whole_answer_is_read_as_one(text: str, answer: ReminderAnswer | None) -> None:
    assert read_answer(text) is answer


@given(
    st.sampled_from(["sí", "confirmo", "ok", "no", "cancelar", "no puedo"]),
    st.sampled_from(["", "!", ".", "¡", "  ", "¿"]),
    st.sampled_from(["", "!", "!!", ".", " ", "?"]),
    st.booleans(),
)
def test_reading_an_answer_ignores_case_accents_and_surrounding_punctuation(
    word: str, before: str, after: str, upper: bool
) -> None:
    text = f"{before}{word.upper() if upper else word}{after}"

    assert read_answer(text) is read_answer(word) is not None


@attrs.define
class ReminderAnswersHarness:
    scheduling: SchedulingService
    clock: FakeClock
    answer_text: str = "sí"
    booked: int = 0

    @property
    def answers(self) -> ReminderAnswers:
        return ReminderAnswers(self.scheduling, lead=LEAD)

    async def contact(self) -> str:
        return new_id()

    async def awaiting(self, contact_id: str) -> None:
        """An appointment on Wednesday 4 March, booked now, and its reminder's moment come."""
        self.booked += 1
        await self.scheduling.book(
            starts_at=lima(4, 9) + timedelta(minutes=30 * self.booked),
            contact_id=contact_id,
            channel="whatsapp",
            booked_by="tests",
        )
        self.clock.advance(max(timedelta(0), lima(3, 11) - self.clock.now()))


class ReminderAnswersTests(AwaitedAnswersContract):
    @pytest.fixture
    def harness(self, office: Office) -> ReminderAnswersHarness:
        return ReminderAnswersHarness(office.scheduling, office.clock)
