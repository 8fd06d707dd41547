"""Feedback routes: contact messages, the claims book and testimonials."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody
from pydantic import EmailStr, Field

from entrypoints.http.auth import admin_only, customer_or_admin, public
from entrypoints.http.errors import problems
from entrypoints.http.schemas import (
    Id,
    JsonInt,
    Limit,
    Offset,
    Out,
    PageOut,
    Schema,
    page_out,
    page_request,
)
from talia_core.feedback.model import (
    ClaimKind,
    ClaimStatus,
    TestimonialStatus,
)
from talia_core.feedback.services import FeedbackService
from talia_core.identity.model import Principal


class ContactMessageIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    email: EmailStr
    subject: str | None = Field(None, max_length=200)
    body: str = Field(min_length=1, max_length=5000)


class ContactMessageOut(Out):
    id: str
    name: str
    email: str
    subject: str | None
    body: str
    received_at: datetime
    read_at: datetime | None
    read_by: str | None


class ClaimIn(Schema):
    kind: ClaimKind
    customer_name: str = Field(min_length=1, max_length=120)
    customer_email: EmailStr
    customer_phone: str | None = Field(None, max_length=32)
    customer_document: str | None = Field(None, max_length=32)
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    request: str = Field(min_length=1, max_length=2000)


class ClaimAnswerIn(Schema):
    answer: str = Field(min_length=1, max_length=5000)


class ClaimOut(Out):
    id: str
    number: int
    kind: ClaimKind
    status: ClaimStatus
    customer_name: str
    customer_email: str
    customer_phone: str | None
    customer_document: str | None
    subject: str
    description: str
    request: str
    filed_at: datetime
    answer: str | None
    answered_at: datetime | None


class TestimonialIn(Schema):
    body: str = Field(min_length=1, max_length=2000)
    rating: JsonInt = Field(ge=1, le=5, description="1 to 5 stars.")


class TestimonialOut(Out):
    id: str
    author_name: str
    body: str
    rating: int
    status: TestimonialStatus
    submitted_at: datetime
    approved_at: datetime | None


class ContactMessageController(Controller):
    path = "/api/contact-messages"
    tags = ["feedback"]

    @post("/", guards=[public], responses=problems(400, 422, 413))
    async def send(
        self, data: JSONBody[ContactMessageIn], feedback: NamedDependency[FeedbackService]
    ) -> ContactMessageOut:
        """Send a message to the business."""
        message = await feedback.send_contact_message(
            name=data.name, email=str(data.email), subject=data.subject, body=data.body
        )
        return ContactMessageOut.model_validate(message)

    @get("/", guards=[admin_only], responses=problems(400, 401, 403))
    async def list_messages(
        self,
        feedback: NamedDependency[FeedbackService],
        limit: Limit = 50,
        offset: Offset = 0,
        unread: FromQuery[bool] = False,
    ) -> PageOut[ContactMessageOut]:
        """Contact messages, newest first."""
        page = await feedback.list_contact_messages(page_request(limit, offset), unread_only=unread)
        return page_out(page, ContactMessageOut.model_validate)

    @post(
        "/{message_id:str}/read",
        guards=[admin_only],
        status_code=200,
        responses=problems(400, 401, 403, 404),
    )
    async def mark_read(
        self,
        message_id: Id,
        feedback: NamedDependency[FeedbackService],
        principal: NamedDependency[Principal],
    ) -> ContactMessageOut:
        """Mark a contact message as read by the caller."""
        message = await feedback.mark_contact_message_read(message_id, by=principal.user_id)
        return ContactMessageOut.model_validate(message)


class ClaimController(Controller):
    path = "/api/claims"
    tags = ["feedback"]

    @post("/", guards=[public], responses=problems(400, 422, 413))
    async def file(
        self, data: JSONBody[ClaimIn], feedback: NamedDependency[FeedbackService]
    ) -> ClaimOut:
        """File a claim or complaint in the claims book; the answer carries its number."""
        claim = await feedback.file_claim(
            kind=data.kind,
            customer_name=data.customer_name,
            customer_email=str(data.customer_email),
            customer_phone=data.customer_phone,
            customer_document=data.customer_document,
            subject=data.subject,
            description=data.description,
            request=data.request,
        )
        return ClaimOut.model_validate(claim)

    @get("/", guards=[admin_only], responses=problems(400, 401, 403))
    async def list_claims(
        self,
        feedback: NamedDependency[FeedbackService],
        limit: Limit = 50,
        offset: Offset = 0,
        status: FromQuery[ClaimStatus | None] = None,
    ) -> PageOut[ClaimOut]:
        """The claims book, highest number first."""
        page = await feedback.list_claims(page_request(limit, offset), status=status)
        return page_out(page, ClaimOut.model_validate)

    @post(
        "/{claim_id:str}/answer",
        guards=[admin_only],
        status_code=200,
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def answer(
        self,
        claim_id: Id,
        data: JSONBody[ClaimAnswerIn],
        feedback: NamedDependency[FeedbackService],
        principal: NamedDependency[Principal],
    ) -> ClaimOut:
        """Answer a claim; a claim is answered once."""
        claim = await feedback.answer_claim(claim_id, answer=data.answer, by=principal.user_id)
        return ClaimOut.model_validate(claim)


class TestimonialController(Controller):
    path = "/api/testimonials"
    tags = ["feedback"]

    @get("/", guards=[public], responses=problems(400))
    async def list_approved(
        self, feedback: NamedDependency[FeedbackService], limit: Limit = 50, offset: Offset = 0
    ) -> PageOut[TestimonialOut]:
        """Approved testimonials, newest first."""
        page = await feedback.list_testimonials(
            page_request(limit, offset), status=TestimonialStatus.APPROVED
        )
        return page_out(page, TestimonialOut.model_validate)

    @get("/pending", guards=[admin_only], responses=problems(400, 401, 403))
    async def list_pending(
        self, feedback: NamedDependency[FeedbackService], limit: Limit = 50, offset: Offset = 0
    ) -> PageOut[TestimonialOut]:
        """Testimonials waiting for approval, newest first."""
        page = await feedback.list_testimonials(
            page_request(limit, offset), status=TestimonialStatus.PENDING
        )
        return page_out(page, TestimonialOut.model_validate)

    @post("/", guards=[customer_or_admin], responses=problems(400, 401, 403, 422))
    async def submit(
        self,
        data: JSONBody[TestimonialIn],
        feedback: NamedDependency[FeedbackService],
        principal: NamedDependency[Principal],
    ) -> TestimonialOut:
        """Submit a testimonial; it is public once an admin approves it."""
        testimonial = await feedback.submit_testimonial(
            author_id=principal.user_id,
            author_name=principal.name,
            body=data.body,
            rating=data.rating,
        )
        return TestimonialOut.model_validate(testimonial)

    @post(
        "/{testimonial_id:str}/approve",
        guards=[admin_only],
        status_code=200,
        responses=problems(400, 401, 403, 404, 409),
    )
    async def approve(
        self,
        testimonial_id: Id,
        feedback: NamedDependency[FeedbackService],
        principal: NamedDependency[Principal],
    ) -> TestimonialOut:
        """Approve a pending testimonial."""
        testimonial = await feedback.approve_testimonial(testimonial_id, by=principal.user_id)
        return TestimonialOut.model_validate(testimonial)


CONTROLLERS = [ContactMessageController, ClaimController, TestimonialController]
