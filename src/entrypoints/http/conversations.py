"""The agents' side: conversations, their messages, hand-offs, contacts, and the job board."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, PathParameter, QueryParameter
from pydantic import Field, model_validator

from adapters.channels.media_links import MAX_TOKEN_LENGTH, MEDIA_PATH
from entrypoints.http.auth import admin_only, public, staff
from entrypoints.http.errors import problems
from entrypoints.http.schemas import (
    PRINTABLE,
    Id,
    Limit,
    Offset,
    Out,
    PageOut,
    Schema,
    page_out,
    page_request,
)
from talia_core.conversations.contact_book import ContactBook
from talia_core.conversations.contacts import Contact
from talia_core.conversations.desk import AgentDesk
from talia_core.conversations.messages import Message, Template
from talia_core.conversations.pipeline import ConversationPipeline
from talia_core.conversations.ports import ConversationFilter
from talia_core.conversations.vocabulary import Channel, ConversationStatus
from talia_core.identity.model import Principal
from talia_core.shared.errors import Malformed
from talia_core.shared.jobs import Job, JobRunner, JobStatus


class ConversationOut(Out):
    id: str
    contact_id: str
    channel: Channel
    thread: str | None
    status: ConversationStatus
    assignee_id: str | None
    created_at: datetime
    last_activity_at: datetime
    last_inbound_at: datetime | None
    unread_count: int
    closed_at: datetime | None
    assistant: str | None


class MediaOut(Out):
    file_key: str | None
    mime_type: str | None
    filename: str | None
    size: int | None


class LocationOut(Out):
    latitude: float
    longitude: float
    name: str | None
    address: str | None


class TemplateOut(Out):
    name: str
    language: str
    parameters: list[str]


class MessageOut(Out):
    id: str
    conversation_id: str
    channel: Channel
    direction: str
    author: str
    author_id: str | None
    author_version: int | None
    type: str
    text: str | None
    media: MediaOut | None
    location: LocationOut | None
    template: TemplateOut | None
    external_id: str | None
    status: str
    status_at: datetime | None
    error_code: str | None
    error_title: str | None
    raw_type: str | None
    created_at: datetime
    transcript: str | None = Field(
        description="A voice note's words or what a photo shows, as the engine put it."
    )
    understanding: str | None = Field(
        description="pending, understood or not_understood (for now: it is tried again), "
        "on inbound voice notes and photos; null on other messages."
    )


class ToolUseOut(Out):
    id: str
    conversation_id: str
    at: datetime
    assistant: str
    assistant_version: int
    tool: str
    arguments: str
    output: str


class IdentityOut(Out):
    kind: str
    value: str


class ContactOut(Out):
    id: str
    name: str | None
    phone: str | None
    email: str | None
    notes: str | None
    identities: list[IdentityOut]
    created_at: datetime
    updated_at: datetime


class TemplateIn(Schema):
    name: str = Field(min_length=1, max_length=512, pattern=PRINTABLE)
    language: str = Field("es", min_length=2, max_length=15, pattern=r"^[A-Za-z_-]+$")
    parameters: list[str] = Field(default_factory=list, max_length=20)


class ReplyIn(Schema):
    text: str | None = Field(None, min_length=1, max_length=4096)
    template: TemplateIn | None = Field(
        None, description="WhatsApp: the only thing that may go out 24 h after the last message."
    )

    @model_validator(mode="after")
    def _one(self) -> ReplyIn:
        if (self.text is None) == (self.template is None):
            raise ValueError("send either text or a template")
        return self


class HandOffIn(Schema):
    assignee_id: str | None = Field(
        None, max_length=36, pattern=PRINTABLE, description="Default: the caller."
    )


class ContactIn(Schema):
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    notes: str | None = Field(None, max_length=2000)


class MergeIn(Schema):
    contact_id: str = Field(
        min_length=1, max_length=36, pattern=PRINTABLE, description="The contact absorbed."
    )


class RetriedOut(Out):
    retried: int


class JobOut(Out):
    id: str
    kind: str
    status: JobStatus
    attempts: int
    last_error: str | None
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None


Text = Annotated[
    str | None, QueryParameter(max_length=200, pattern=PRINTABLE, description="Search text.")
]


def message_out(message: Message) -> MessageOut:
    return MessageOut.model_validate(message)


def contact_out(contact: Contact) -> ContactOut:
    return ContactOut.model_validate(contact)


class ConversationController(Controller):
    path = "/api/conversations"
    tags = ["conversations"]
    guards = [staff]

    @get(responses=problems(400, 401, 403))
    async def list_conversations(
        self,
        desk: NamedDependency[AgentDesk],
        limit: Limit = 50,
        offset: Offset = 0,
        status: Annotated[ConversationStatus | None, QueryParameter(description="Status.")] = None,
        channel: Annotated[Channel | None, QueryParameter(description="Channel.")] = None,
        assignee_id: Annotated[str | None, QueryParameter(max_length=36, pattern=PRINTABLE)] = None,
        contact_id: Annotated[str | None, QueryParameter(max_length=36, pattern=PRINTABLE)] = None,
        text: Text = None,
    ) -> PageOut[ConversationOut]:
        """Most recent activity first."""
        criteria = ConversationFilter(status, channel, assignee_id, contact_id, text)
        page = await desk.list_conversations(page_request(limit, offset), criteria)
        return page_out(page, ConversationOut.model_validate)

    @get("/{conversation_id:str}", responses=problems(400, 401, 403, 404))
    async def get_conversation(
        self, conversation_id: Id, desk: NamedDependency[AgentDesk]
    ) -> ConversationOut:
        return ConversationOut.model_validate(await desk.conversation(conversation_id))

    @get("/{conversation_id:str}/messages", responses=problems(400, 401, 403, 404))
    async def list_messages(
        self,
        conversation_id: Id,
        desk: NamedDependency[AgentDesk],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOut[MessageOut]:
        """Newest first."""
        page = await desk.messages(conversation_id, page_request(limit, offset))
        return page_out(page, message_out)

    @get("/{conversation_id:str}/tool-uses", responses=problems(400, 401, 403, 404))
    async def list_tool_uses(
        self,
        conversation_id: Id,
        desk: NamedDependency[AgentDesk],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOut[ToolUseOut]:
        """The tools the assistant called, with their arguments and answers, newest first:
        why the bot did what it did."""
        page = await desk.tool_uses(conversation_id, page_request(limit, offset))
        return page_out(page, ToolUseOut.model_validate)

    @post(
        "/{conversation_id:str}/messages",
        status_code=202,
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def reply(
        self,
        conversation_id: Id,
        data: JSONBody[ReplyIn],
        desk: NamedDependency[AgentDesk],
        principal: NamedDependency[Principal],
    ) -> MessageOut:
        """A human reply, sent through the conversation's channel by a job; the conversation
        becomes the caller's. WhatsApp free text after 24 h is refused (422): send a template."""
        template = (
            Template(data.template.name, data.template.language, tuple(data.template.parameters))
            if data.template
            else None
        )
        message = await desk.send_human_reply(
            conversation_id, agent_id=principal.user_id, text=data.text, template=template
        )
        return message_out(message)

    @post(
        "/{conversation_id:str}/handoff",
        status_code=200,
        responses=problems(400, 401, 403, 404, 409),
    )
    async def hand_off(
        self,
        conversation_id: Id,
        desk: NamedDependency[AgentDesk],
        principal: NamedDependency[Principal],
        data: JSONBody[HandOffIn | None] = None,
    ) -> ConversationOut:
        """A human takes over: the bot stops answering."""
        assignee = (data.assignee_id if data else None) or principal.user_id
        return ConversationOut.model_validate(
            await desk.hand_off(conversation_id, assignee_id=assignee)
        )

    @post(
        "/{conversation_id:str}/release",
        status_code=200,
        responses=problems(400, 401, 403, 404, 409),
    )
    async def release(
        self, conversation_id: Id, desk: NamedDependency[AgentDesk]
    ) -> ConversationOut:
        """Back to the bot."""
        return ConversationOut.model_validate(await desk.release(conversation_id))

    @post(
        "/{conversation_id:str}/close", status_code=200, responses=problems(400, 401, 403, 404, 409)
    )
    async def close(self, conversation_id: Id, desk: NamedDependency[AgentDesk]) -> ConversationOut:
        """Closed for good; the contact's next message opens a new conversation."""
        return ConversationOut.model_validate(await desk.close(conversation_id))

    @post("/{conversation_id:str}/read", status_code=200, responses=problems(400, 401, 403, 404))
    async def mark_read(
        self, conversation_id: Id, desk: NamedDependency[AgentDesk]
    ) -> ConversationOut:
        return ConversationOut.model_validate(await desk.mark_read(conversation_id))


class ContactController(Controller):
    path = "/api/contacts"
    tags = ["conversations"]
    guards = [staff]

    @get(responses=problems(400, 401, 403))
    async def list_contacts(
        self,
        contact_book: NamedDependency[ContactBook],
        limit: Limit = 50,
        offset: Offset = 0,
        text: Text = None,
    ) -> PageOut[ContactOut]:
        """Most recently updated first."""
        page = await contact_book.list_contacts(page_request(limit, offset), text=text)
        return page_out(page, contact_out)

    @get("/{contact_id:str}", responses=problems(400, 401, 403, 404))
    async def get_contact(
        self, contact_id: Id, contact_book: NamedDependency[ContactBook]
    ) -> ContactOut:
        return contact_out(await contact_book.contact(contact_id))

    @patch("/{contact_id:str}", responses=problems(400, 401, 403, 404, 422))
    async def edit_contact(
        self,
        contact_id: Id,
        data: JSONBody[ContactIn],
        contact_book: NamedDependency[ContactBook],
    ) -> ContactOut:
        contact = await contact_book.edit_contact(
            contact_id, name=data.name, email=data.email, notes=data.notes
        )
        return contact_out(contact)

    @post(
        "/{contact_id:str}/merge", status_code=200, responses=problems(400, 401, 403, 404, 409, 422)
    )
    async def merge(
        self,
        contact_id: Id,
        data: JSONBody[MergeIn],
        contact_book: NamedDependency[ContactBook],
    ) -> ContactOut:
        """The same person on two channels: the other contact's identities and
        conversations move here and it is removed."""
        return contact_out(await contact_book.merge_contacts(contact_id, data.contact_id))


class JobController(Controller):
    path = "/api/admin/jobs"
    tags = ["jobs"]
    guards = [admin_only]

    @get(responses=problems(400, 401, 403))
    async def list_jobs(
        self,
        job_runner: NamedDependency[JobRunner],
        limit: Limit = 50,
        offset: Offset = 0,
        status: Annotated[JobStatus | None, QueryParameter(description="Only this status.")] = None,
    ) -> PageOut[JobOut]:
        """Background jobs, newest first; ``status=dead`` lists the dead letters."""
        page = await job_runner.list(page_request(limit, offset), status=status)
        return page_out(page, JobOut.model_validate)

    @post("/{job_id:str}/retry", status_code=200, responses=problems(400, 401, 403, 404, 409))
    async def retry(self, job_id: Id, job_runner: NamedDependency[JobRunner]) -> JobOut:
        """A dead job runs again with a fresh count of attempts."""
        job: Job = await job_runner.retry(job_id)
        return JobOut.model_validate(job)

    @post("/retry", status_code=200, responses=problems(400, 401, 403))
    async def retry_dead(
        self,
        job_runner: NamedDependency[JobRunner],
        kind: Annotated[
            str | None, QueryParameter(max_length=100, pattern=PRINTABLE, description="Kind.")
        ] = None,
        since: Annotated[
            datetime | None, QueryParameter(description="Dead since then (with its offset).")
        ] = None,
    ) -> RetriedOut:
        """Every dead job, of a kind and dead since a time when given, runs again with a
        fresh count of attempts: what an outage killed, retried in one call."""
        if since is not None and since.utcoffset() is None:
            raise Malformed("since needs its UTC offset (2026-12-06T10:00:00Z)")
        return RetriedOut(retried=await job_runner.retry_dead(kind=kind, since=since))


VoiceToken = Annotated[
    str, PathParameter(min_length=1, max_length=MAX_TOKEN_LENGTH, pattern=r"^[A-Za-z0-9_.-]+$")
]


@get(
    f"{MEDIA_PATH}/{{token:str}}",
    guards=[public],
    tags=["conversations"],
    responses=problems(400, 404),
)
async def voice_note(
    token: VoiceToken, pipeline: NamedDependency[ConversationPipeline]
) -> Response[bytes]:
    """A voice reply the assistant sent, by the unguessable link it went out with (Twilio
    and the web chat widget fetch it); 404 for any other token."""
    found = await pipeline.voice_note(token)
    headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    return Response(found.content, media_type=found.mime_type, headers=headers)


CONTROLLERS: list[type[Controller] | HTTPRouteHandler] = [
    ConversationController,
    ContactController,
    JobController,
    voice_note,
]
