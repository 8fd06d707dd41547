"""Calendars of the scheduling context: Outlook through Microsoft Graph, and the local
calendar's iCalendar feed."""
