"""Scheduling use cases: free slots, booking without double booking, cancelling, listing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from talia_core.scheduling.errors import SlotTaken
from talia_core.scheduling.jobs import REMIND_JOB, reminder
from talia_core.scheduling.model import Appointment, AppointmentStatus, CalendarBooking, TimeRange
from talia_core.scheduling.ports import Calendar, SchedulingUnitOfWork
from talia_core.scheduling.reminders import reminder_parameters, reminder_text
from talia_core.scheduling.schedule import LONGEST_APPOINTMENT_MINUTES, ScheduleRules
from talia_core.scheduling.slots import BusyTime, check_slot, free_slots
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.events import DomainEvent
from talia_core.shared.jobs import JobHandler
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory

LONGEST_RANGE = timedelta(days=62)
"""The widest window one availability question may ask about: two months."""


class SchedulingService:
    def __init__(
        self,
        uow: UnitOfWorkFactory[SchedulingUnitOfWork],
        calendar: Calendar,
        rules: ScheduleRules,
        clock: Clock,
        *,
        reminder_lead: timedelta | None = None,
    ) -> None:
        """``reminder_lead``: how long before an appointment its contact is reminded; None
        reminds nobody."""
        self._uow = uow
        self._calendar = calendar
        self._rules = rules
        self._clock = clock
        self._reminder_lead = reminder_lead

    @property
    def rules(self) -> ScheduleRules:
        return self._rules

    async def availability(
        self, start: datetime, end: datetime, *, duration_minutes: int | None = None
    ) -> list[TimeRange]:
        if end <= start:
            raise RuleViolated("the window must end after it starts", {"to": "not after from"})
        window = TimeRange(start, end)
        if window.end - window.start > LONGEST_RANGE:
            raise RuleViolated(
                f"ask for at most {LONGEST_RANGE.days} days at once", {"to": "range_too_long"}
            )
        self._rules.duration(duration_minutes)
        busy = await self._busy(window)
        return free_slots(
            self._rules, busy, window, now=self._clock.now(), duration_minutes=duration_minutes
        )

    async def book(
        self,
        *,
        starts_at: datetime,
        duration_minutes: int | None = None,
        contact_id: str | None = None,
        customer_name: str | None = None,
        channel: str | None = None,
        note: str | None = None,
        booked_by: str,
    ) -> Appointment:
        """Held in the calendar first (which refuses a taken slot atomically), then recorded;
        a hold or a record that fails gives the calendar its time back."""
        now = self._clock.now()
        slot = check_slot(self._rules, starts_at, now=now, duration_minutes=duration_minutes)
        guarded = self._guarded(slot)
        if BusyTime(await self._calendar.busy(self._rules.calendar_id, *guarded)).overlaps(
            *guarded
        ):
            raise SlotTaken(slot.start)
        appointment = Appointment.book(
            calendar_id=self._rules.calendar_id,
            slot=slot,
            contact_id=contact_id,
            customer_name=customer_name,
            channel=channel,
            note=note,
            booked_by=booked_by,
            at=now,
        )
        try:
            entry = await self._calendar.book(
                CalendarBooking(
                    appointment_id=appointment.id,
                    calendar_id=appointment.calendar_id,
                    starts_at=slot.start,
                    ends_at=slot.end,
                    summary=f"Cita: {appointment.customer_name or 'cliente'}",
                    description=appointment.note or "",
                )
            )
            appointment.event_id = entry.event_id
            async with self._uow() as uow:
                await uow.appointments.add(appointment)
                if self._reminder_lead is not None:
                    job = reminder(appointment, self._reminder_lead, now)
                    if job is not None:
                        await uow.jobs.add(job)
                await uow.outbox.add(
                    DomainEvent(
                        "appointment.booked",
                        now,
                        {"appointment_id": appointment.id, "starts_at": slot.start.isoformat()},
                    )
                )
                await uow.commit()
        except BaseException:
            # A failed hold may have been made all the same (a timeout after the provider
            # created the event); calendars find an event by its appointment's id, so
            # cancelling is safe whether or not it exists.
            await self._calendar.cancel(appointment.calendar_id, appointment.id)
            raise
        return appointment

    async def cancel(
        self, appointment_id: str, *, by: str, contact_id: str | None = None
    ) -> Appointment:
        """Cancelling again succeeds and frees the calendar's time if a first try could not.
        With ``contact_id`` only that contact's own appointments are found."""
        now = self._clock.now()
        async with self._uow() as uow:
            appointment = await self._owned(uow, appointment_id, contact_id)
            if appointment.active:
                appointment.cancel(by=by, at=now)
                await uow.appointments.update(appointment)
                await uow.outbox.add(
                    DomainEvent("appointment.cancelled", now, {"appointment_id": appointment.id})
                )
                await uow.commit()
        await self._calendar.cancel(appointment.calendar_id, appointment.id)
        return appointment

    async def confirm(self, appointment_id: str, *, contact_id: str | None = None) -> Appointment:
        async with self._uow() as uow:
            appointment = await self._owned(uow, appointment_id, contact_id)
            appointment.confirm(at=self._clock.now())
            await uow.appointments.update(appointment)
            await uow.commit()
        return appointment

    def now(self) -> datetime:
        return self._clock.now()

    async def remind(self, appointment_id: str) -> None:
        """Tell whoever reacts to ``appointment.reminder_due`` (the channel that reminds the
        customer, webhooks) that an appointment comes; one that was cancelled or has
        begun is left alone."""
        now = self._clock.now()
        async with self._uow() as uow:
            appointment = await uow.appointments.get(appointment_id)
            if not appointment.active or appointment.starts_at <= now:
                return
            await uow.outbox.add(
                DomainEvent(
                    "appointment.reminder_due",
                    now,
                    {
                        "appointment_id": appointment.id,
                        "contact_id": appointment.contact_id,
                        "channel": appointment.channel,
                        "starts_at": appointment.starts_at.isoformat(),
                        "time_zone": self._rules.time_zone,
                        "customer_name": appointment.customer_name,
                        "text": reminder_text(appointment, self._rules.zone),
                        "parameters": list(reminder_parameters(appointment, self._rules.zone)),
                    },
                )
            )
            await uow.commit()

    def job_handlers(self) -> dict[str, JobHandler]:
        """What the job runner calls for each kind of job this context records."""

        async def remind(payload: Mapping[str, Any]) -> None:
            await self.remind(str(payload["appointment_id"]))

        return {REMIND_JOB: remind}

    async def get(self, appointment_id: str) -> Appointment:
        async with self._uow(read_only=True) as uow:
            return await uow.appointments.get(appointment_id)

    async def get_own(self, appointment_id: str, *, contact_id: str) -> Appointment:
        """The contact's own appointment; anyone else's is ``NotFound`` like a missing one."""
        async with self._uow(read_only=True) as uow:
            return await self._owned(uow, appointment_id, contact_id)

    async def list_appointments(
        self,
        page: PageRequest,
        *,
        starts_from: datetime | None = None,
        starts_before: datetime | None = None,
        status: AppointmentStatus | None = None,
        contact_id: str | None = None,
    ) -> Page[Appointment]:
        async with self._uow(read_only=True) as uow:
            return await uow.appointments.find(
                page,
                starts_from=starts_from,
                starts_before=starts_before,
                status=status,
                contact_id=contact_id,
            )

    async def _busy(self, window: TimeRange) -> list[TimeRange]:
        reach = timedelta(minutes=LONGEST_APPOINTMENT_MINUTES)
        start, end = self._guarded(TimeRange(window.start, window.end + reach))
        return list(await self._calendar.busy(self._rules.calendar_id, start, end))

    def _guarded(self, slot: TimeRange) -> tuple[datetime, datetime]:
        """The slot widened by the buffers it must keep clear."""
        return (
            slot.start - timedelta(minutes=self._rules.buffer_before_minutes),
            slot.end + timedelta(minutes=self._rules.buffer_after_minutes),
        )

    @staticmethod
    async def _owned(
        uow: SchedulingUnitOfWork, appointment_id: str, contact_id: str | None
    ) -> Appointment:
        appointment = await uow.appointments.get(appointment_id)
        if contact_id is not None and appointment.contact_id != contact_id:
            raise NotFound("appointment", appointment_id)
        return appointment
