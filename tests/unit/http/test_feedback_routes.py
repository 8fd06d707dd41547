"""The feedback routes over the in-memory fakes: what they do, and every way to call them wrong.

Every refused call answers a 4xx ``application/problem+json`` and leaves the stored state as
it was; the tests compare a snapshot of that state before and after.
"""

from __future__ import annotations

from typing import Any

import pytest

from talia_core.identity.model import Role
from talia_core.shared.pagination import PageRequest
from tests.api import Api, assert_problem

ALL = PageRequest(limit=200)


def contact(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Luis Quispe",
        "email": "luis@example.com",
        "subject": "Corporate events",
        "body": "Do you make invitations for company events?",
    }
    body.update(changes)
    return body


def claim(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "claim",
        "customer_name": "Rosa Huaman",
        "customer_email": "rosa@example.com",
        "customer_phone": "+51 999 888 777",
        "customer_document": "DNI 12345678",
        "subject": "Late delivery",
        "description": "The order arrived a week late.",
        "request": "A refund of the shipping cost.",
    }
    body.update(changes)
    return body


def new_testimonial(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"body": "Lovely invitations, every guest answered.", "rating": 5}
    body.update(changes)
    return body


def without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != field}


async def stored(api: Api) -> dict[str, Any]:
    """Everything the feedback context holds, read through its use cases."""
    feedback = api.container.use_cases.feedback()
    messages = await feedback.list_contact_messages(ALL)
    claims = await feedback.list_claims(ALL)
    testimonials = await feedback.list_testimonials(ALL)
    return {
        "contact_messages": list(messages.items),
        "claims": list(claims.items),
        "testimonials": list(testimonials.items),
    }


async def send_contact(api: Api, **changes: Any) -> dict[str, Any]:
    response = await api.client.post("/api/contact-messages", json=contact(**changes))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def file_claim(api: Api, **changes: Any) -> dict[str, Any]:
    response = await api.client.post("/api/claims", json=claim(**changes))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def submit_testimonial(api: Api, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/api/testimonials", json=new_testimonial(**changes), headers=headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


# --- contact messages -------------------------------------------------------------------


async def test_anyone_can_send_a_contact_message_and_it_arrives_unread(api: Api) -> None:
    response = await api.client.post("/api/contact-messages", json=contact())

    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["name"] == "Luis Quispe"
    assert sent["email"] == "luis@example.com"
    assert sent["read_at"] is None
    assert sent["read_by"] is None
    assert sent["received_at"].endswith("Z") or sent["received_at"].endswith("+00:00")
    assert [m.id for m in (await stored(api))["contact_messages"]] == [sent["id"]]


async def test_a_contact_message_needs_no_subject(api: Api) -> None:
    sent = await send_contact(api, subject=None)

    assert sent["subject"] is None
    assert (await send_contact(api, subject=""))["subject"] is None


async def test_contact_message_text_is_stored_trimmed(api: Api) -> None:
    sent = await send_contact(api, name="  Luis  ", body="  hello  ")

    assert (sent["name"], sent["body"]) == ("Luis", "hello")


async def test_strings_at_their_maximum_length_are_accepted(api: Api) -> None:
    await send_contact(api, name="n" * 120, subject="s" * 200, body="b" * 5000)
    await file_claim(
        api,
        customer_name="n" * 120,
        customer_phone="1" * 32,
        customer_document="d" * 32,
        subject="s" * 200,
        description="d" * 5000,
        request="r" * 2000,
    )


async def test_an_admin_lists_contact_messages_newest_first_with_their_total(api: Api) -> None:
    ids = [(await send_contact(api, subject=f"question {n}"))["id"] for n in range(3)]
    _, admin = await api.user(Role.ADMIN)

    response = await api.client.get("/api/contact-messages", headers=admin)

    assert response.status_code == 200, response.text
    page = response.json()
    assert [m["id"] for m in page["items"]] == ids[::-1]
    assert (page["total"], page["limit"], page["offset"]) == (3, 50, 0)


async def test_contact_messages_are_paginated_by_limit_and_offset(api: Api) -> None:
    ids = [(await send_contact(api, subject=f"question {n}"))["id"] for n in range(5)]
    _, admin = await api.user(Role.ADMIN)

    first = (await api.client.get("/api/contact-messages?limit=2", headers=admin)).json()
    last = (await api.client.get("/api/contact-messages?limit=2&offset=4", headers=admin)).json()
    beyond = (await api.client.get("/api/contact-messages?offset=10", headers=admin)).json()

    assert [m["id"] for m in first["items"]] == ids[:-3:-1]
    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    assert [m["id"] for m in last["items"]] == [ids[0]]
    assert (beyond["items"], beyond["total"]) == ([], 5)


async def test_an_admin_marks_a_message_read_and_the_unread_filter_leaves_it_out(
    api: Api,
) -> None:
    first = await send_contact(api, subject="first")
    second = await send_contact(api, subject="second")
    admin_id, admin = await api.user(Role.ADMIN)

    read = await api.client.post(f"/api/contact-messages/{first['id']}/read", headers=admin)
    unread = await api.client.get("/api/contact-messages?unread=true", headers=admin)
    every = await api.client.get("/api/contact-messages?unread=false", headers=admin)

    assert read.status_code == 200, read.text
    assert read.json()["read_by"] == admin_id
    assert read.json()["read_at"] is not None
    assert [m["id"] for m in unread.json()["items"]] == [second["id"]]
    assert unread.json()["total"] == 1
    assert every.json()["total"] == 2


async def test_reading_a_message_twice_keeps_the_first_reader(api: Api) -> None:
    message = await send_contact(api)
    first_id, first = await api.user(Role.ADMIN)
    _, second = await api.user(Role.ADMIN)
    url = f"/api/contact-messages/{message['id']}/read"

    once = await api.client.post(url, headers=first)
    twice = await api.client.post(url, headers=second)

    assert twice.status_code == 200, twice.text
    assert twice.json()["read_by"] == first_id
    assert twice.json()["read_at"] == once.json()["read_at"]


# --- claims -----------------------------------------------------------------------------


async def test_anyone_can_file_a_claim_and_gets_its_sequential_number(api: Api) -> None:
    numbers = [(await file_claim(api))["number"] for _ in range(3)]
    complaint = await file_claim(api, kind="complaint")

    assert numbers == [1, 2, 3]
    assert complaint["number"] == 4
    assert complaint["kind"] == "complaint"
    assert complaint["status"] == "open"
    assert complaint["answer"] is None


async def test_a_claim_needs_no_phone_or_document(api: Api) -> None:
    body = without(without(claim(), "customer_phone"), "customer_document")

    response = await api.client.post("/api/claims", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["customer_phone"] is None
    assert response.json()["customer_document"] is None


async def test_an_admin_lists_claims_highest_number_first_and_filters_by_status(
    api: Api,
) -> None:
    claims = [await file_claim(api) for _ in range(3)]
    _, admin = await api.user(Role.ADMIN)
    await api.client.post(
        f"/api/claims/{claims[1]['id']}/answer", json={"answer": "Refunded"}, headers=admin
    )

    every = (await api.client.get("/api/claims", headers=admin)).json()
    answered = (await api.client.get("/api/claims?status=answered", headers=admin)).json()
    still_open = (await api.client.get("/api/claims?status=open", headers=admin)).json()
    paged = (await api.client.get("/api/claims?limit=1&offset=1", headers=admin)).json()

    assert [c["number"] for c in every["items"]] == [3, 2, 1]
    assert every["total"] == 3
    assert [c["number"] for c in answered["items"]] == [2]
    assert [c["number"] for c in still_open["items"]] == [3, 1]
    assert ([c["number"] for c in paged["items"]], paged["total"]) == ([2], 3)


async def test_an_admin_answers_a_claim_once_and_a_second_answer_is_a_conflict(
    api: Api,
) -> None:
    filed = await file_claim(api)
    _, admin = await api.user(Role.ADMIN)
    url = f"/api/claims/{filed['id']}/answer"

    first = await api.client.post(url, json={"answer": "We refunded the shipping."}, headers=admin)
    second = await api.client.post(url, json={"answer": "Something else."}, headers=admin)

    assert first.status_code == 200, first.text
    assert first.json()["status"] == "answered"
    assert first.json()["answer"] == "We refunded the shipping."
    assert first.json()["answered_at"] is not None
    assert_problem(second, 409)
    (kept,) = (await stored(api))["claims"]
    assert kept.answer == "We refunded the shipping."


# --- testimonials -----------------------------------------------------------------------


async def test_a_customer_submits_a_testimonial_that_waits_for_approval(api: Api) -> None:
    author_id, customer = await api.user(Role.CUSTOMER)

    submitted = await submit_testimonial(api, customer, rating=4)
    public = (await api.client.get("/api/testimonials")).json()

    assert submitted["status"] == "pending"
    assert submitted["rating"] == 4
    assert submitted["author_name"] == "Ana"
    assert submitted["approved_at"] is None
    assert public["items"] == []
    assert public["total"] == 0
    (kept,) = (await stored(api))["testimonials"]
    assert kept.author_id == author_id


async def test_an_admin_lists_pending_testimonials_and_approves_one_for_the_public(
    api: Api,
) -> None:
    _, customer = await api.user(Role.CUSTOMER)
    first = await submit_testimonial(api, customer, body="First")
    second = await submit_testimonial(api, customer, body="Second")
    _, admin = await api.user(Role.ADMIN)

    pending = (await api.client.get("/api/testimonials/pending", headers=admin)).json()
    approved = await api.client.post(f"/api/testimonials/{first['id']}/approve", headers=admin)
    public = (await api.client.get("/api/testimonials")).json()
    still_pending = (await api.client.get("/api/testimonials/pending", headers=admin)).json()

    assert [t["id"] for t in pending["items"]] == [second["id"], first["id"]]
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_at"] is not None
    assert [t["id"] for t in public["items"]] == [first["id"]]
    assert public["total"] == 1
    assert [t["id"] for t in still_pending["items"]] == [second["id"]]


async def test_approving_a_testimonial_twice_is_a_conflict(api: Api) -> None:
    _, customer = await api.user(Role.CUSTOMER)
    submitted = await submit_testimonial(api, customer)
    _, admin = await api.user(Role.ADMIN)
    url = f"/api/testimonials/{submitted['id']}/approve"

    await api.client.post(url, headers=admin)
    again = await api.client.post(url, headers=admin)

    assert_problem(again, 409)


async def test_public_testimonials_are_paginated(api: Api) -> None:
    _, customer = await api.user(Role.CUSTOMER)
    _, admin = await api.user(Role.ADMIN)
    for n in range(3):
        submitted = await submit_testimonial(api, customer, body=f"Story {n}")
        await api.client.post(f"/api/testimonials/{submitted['id']}/approve", headers=admin)

    page = (await api.client.get("/api/testimonials?limit=2&offset=2")).json()

    assert [t["body"] for t in page["items"]] == ["Story 0"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 2)


async def test_an_admin_may_submit_a_testimonial_too(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)

    submitted = await submit_testimonial(api, admin)

    assert submitted["status"] == "pending"


# --- bad input: every route, nothing changes --------------------------------------------

MALFORMED_BODIES = [
    pytest.param(b"{not json", id="malformed-json"),
    pytest.param(b'{"name": "x",}', id="trailing-comma"),
    pytest.param(b"", id="empty-body"),
    pytest.param(b"[]", id="array"),
    pytest.param(b"null", id="null"),
    pytest.param(b'"a string"', id="string"),
    pytest.param(b"\xff\xfe", id="not-utf8"),
]


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    return (await api.user(Role.ADMIN))[1]


@pytest.fixture
async def customer(api: Api) -> dict[str, str]:
    return (await api.user(Role.CUSTOMER))[1]


@pytest.fixture
async def agent(api: Api) -> dict[str, str]:
    return (await api.user(Role.AGENT))[1]


async def test_each_body_route_refuses_a_body_that_is_not_a_json_object(
    api: Api, admin: dict[str, str], customer: dict[str, str]
) -> None:
    filed = await file_claim(api)
    before = await stored(api)
    routes = [
        ("/api/contact-messages", {}),
        ("/api/claims", {}),
        (f"/api/claims/{filed['id']}/answer", admin),
        ("/api/testimonials", customer),
    ]
    for url, auth in routes:
        for param in MALFORMED_BODIES:
            (content,) = param.values
            response = await api.client.post(
                url, content=content, headers={**auth, "Content-Type": "application/json"}
            )
            assert response.status_code == 400, (url, param.id, response.text)
            assert_problem(response, 400)

    assert await stored(api) == before


@pytest.mark.parametrize("content", MALFORMED_BODIES)
async def test_a_malformed_contact_message_is_refused_and_nothing_is_stored(
    api: Api, content: bytes
) -> None:
    response = await api.client.post(
        "/api/contact-messages", content=content, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 400)
    assert (await stored(api))["contact_messages"] == []


async def test_a_form_encoded_contact_message_is_refused(api: Api) -> None:
    response = await api.client.post("/api/contact-messages", data=contact())

    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)
    assert (await stored(api))["contact_messages"] == []


CONTACT_BAD = [
    pytest.param(contact(name=1), "name", id="name-not-a-string"),
    pytest.param(contact(name=None), "name", id="name-null"),
    pytest.param(contact(name=["Luis"]), "name", id="name-a-list"),
    pytest.param(contact(name=""), "name", id="name-empty"),
    pytest.param(contact(name="   "), "name", id="name-blank"),
    pytest.param(contact(name="n" * 121), "name", id="name-too-long"),
    pytest.param(contact(subject="s" * 201), "subject", id="subject-too-long"),
    pytest.param(contact(subject=7), "subject", id="subject-not-a-string"),
    pytest.param(contact(body=""), "body", id="body-empty"),
    pytest.param(contact(body="b" * 5001), "body", id="body-too-long"),
    pytest.param(contact(body={"text": "hi"}), "body", id="body-an-object"),
    pytest.param(contact(email="nope"), "email", id="email-no-at"),
    pytest.param(contact(email="luis@"), "email", id="email-no-domain"),
    pytest.param(contact(email="@example.com"), "email", id="email-no-local-part"),
    pytest.param(contact(email="luis quispe@example.com"), "email", id="email-with-space"),
    pytest.param(contact(email="luis@example"), "email", id="email-no-tld"),
    pytest.param(contact(email="l" * 250 + "@example.com"), "email", id="email-too-long"),
    pytest.param(contact(email=42), "email", id="email-not-a-string"),
    pytest.param(without(contact(), "name"), "name", id="name-missing"),
    pytest.param(without(contact(), "email"), "email", id="email-missing"),
    pytest.param(without(contact(), "body"), "body", id="body-missing"),
    pytest.param(contact(read_at="2026-01-01T00:00:00Z"), "read_at", id="extra-read_at"),
    pytest.param(contact(id="mine"), "id", id="extra-id"),
    pytest.param(contact(Name="Luis"), "Name", id="extra-misspelt"),
]


@pytest.mark.parametrize(("body", "field"), CONTACT_BAD)
async def test_an_invalid_contact_message_is_refused_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.client.post("/api/contact-messages", json=body)

    assert_problem(response, 400, field)
    assert (await stored(api))["contact_messages"] == []


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("/api/contact-messages", contact(name="Lu\x00is"), "name"),
        ("/api/contact-messages", contact(body="Hi\x1b[31m"), "body"),
        ("/api/claims", claim(subject="Late\x00"), "subject"),
        ("/api/claims", claim(customer_document="\x07123"), "customer_document"),
    ],
    ids=["nul-in-name", "escape-in-body", "nul-in-subject", "bell-in-document"],
)
async def test_text_with_control_characters_is_refused_naming_the_field(
    api: Api, route: str, body: dict[str, Any], field: str
) -> None:
    response = await api.client.post(route, json=body)

    assert_problem(response, 422, field)
    assert await stored(api) == {"contact_messages": [], "claims": [], "testimonials": []}


async def test_line_breaks_and_tabs_are_kept_in_a_message(api: Api) -> None:
    sent = await send_contact(api, body="Hello,\n\tI have a question.\r\nThanks")

    assert sent["body"] == "Hello,\n\tI have a question.\r\nThanks"


CLAIM_BAD = [
    pytest.param(claim(kind="suggestion"), "kind", id="kind-unknown"),
    pytest.param(claim(kind="CLAIM"), "kind", id="kind-wrong-case"),
    pytest.param(claim(kind=1), "kind", id="kind-not-a-string"),
    pytest.param(claim(customer_name=""), "customer_name", id="name-empty"),
    pytest.param(claim(customer_name="n" * 121), "customer_name", id="name-too-long"),
    pytest.param(claim(customer_name=12), "customer_name", id="name-not-a-string"),
    pytest.param(claim(customer_email="rosa"), "customer_email", id="email-invalid"),
    pytest.param(claim(customer_email=""), "customer_email", id="email-empty"),
    pytest.param(claim(customer_phone="9" * 33), "customer_phone", id="phone-too-long"),
    pytest.param(claim(customer_phone=999888777), "customer_phone", id="phone-a-number"),
    pytest.param(claim(customer_document="d" * 33), "customer_document", id="doc-too-long"),
    pytest.param(claim(subject=""), "subject", id="subject-empty"),
    pytest.param(claim(subject="s" * 201), "subject", id="subject-too-long"),
    pytest.param(claim(description="d" * 5001), "description", id="description-too-long"),
    pytest.param(claim(description=["late"]), "description", id="description-a-list"),
    pytest.param(claim(request="r" * 2001), "request", id="request-too-long"),
    pytest.param(claim(request="  "), "request", id="request-blank"),
    *(
        pytest.param(without(claim(), field), field, id=f"{field}-missing")
        for field in (
            "kind",
            "customer_name",
            "customer_email",
            "subject",
            "description",
            "request",
        )
    ),
    pytest.param(claim(number=1), "number", id="extra-number"),
    pytest.param(claim(status="answered"), "status", id="extra-status"),
    pytest.param(claim(answer="self-answered"), "answer", id="extra-answer"),
]


@pytest.mark.parametrize(("body", "field"), CLAIM_BAD)
async def test_an_invalid_claim_is_refused_naming_the_field_and_takes_no_number(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.client.post("/api/claims", json=body)

    assert_problem(response, 400, field)
    assert (await stored(api))["claims"] == []
    assert (await file_claim(api))["number"] == 1


ANSWER_BAD = [
    pytest.param({}, "answer", id="answer-missing"),
    pytest.param({"answer": ""}, "answer", id="answer-empty"),
    pytest.param({"answer": "   "}, "answer", id="answer-blank"),
    pytest.param({"answer": "a" * 5001}, "answer", id="answer-too-long"),
    pytest.param({"answer": 5}, "answer", id="answer-not-a-string"),
    pytest.param({"answer": None}, "answer", id="answer-null"),
    pytest.param({"answer": "ok", "status": "open"}, "status", id="extra-status"),
]


@pytest.mark.parametrize(("body", "field"), ANSWER_BAD)
async def test_an_invalid_answer_is_refused_and_the_claim_stays_open(
    api: Api, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    filed = await file_claim(api)

    response = await api.client.post(f"/api/claims/{filed['id']}/answer", json=body, headers=admin)

    assert_problem(response, 400, field)
    (kept,) = (await stored(api))["claims"]
    assert (kept.status.value, kept.answer) == ("open", None)


TESTIMONIAL_BAD = [
    pytest.param(new_testimonial(rating=0), "rating", id="rating-0"),
    pytest.param(new_testimonial(rating=6), "rating", id="rating-6"),
    pytest.param(new_testimonial(rating=-1), "rating", id="rating-negative"),
    pytest.param(new_testimonial(rating=10**20), "rating", id="rating-huge"),
    pytest.param(new_testimonial(rating=4.5), "rating", id="rating-fraction"),
    pytest.param(new_testimonial(rating="5"), "rating", id="rating-a-string"),
    pytest.param(new_testimonial(rating=True), "rating", id="rating-a-boolean"),
    pytest.param(new_testimonial(rating=None), "rating", id="rating-null"),
    pytest.param(without(new_testimonial(), "rating"), "rating", id="rating-missing"),
    pytest.param(new_testimonial(body=""), "body", id="body-empty"),
    pytest.param(new_testimonial(body="b" * 2001), "body", id="body-too-long"),
    pytest.param(new_testimonial(body=3), "body", id="body-not-a-string"),
    pytest.param(without(new_testimonial(), "body"), "body", id="body-missing"),
    pytest.param(new_testimonial(status="approved"), "status", id="extra-status"),
    pytest.param(new_testimonial(author_name="Someone else"), "author_name", id="extra-author"),
    pytest.param(new_testimonial(author_id="x"), "author_id", id="extra-author-id"),
]


@pytest.mark.parametrize(("body", "field"), TESTIMONIAL_BAD)
async def test_an_invalid_testimonial_is_refused_naming_the_field(
    api: Api, customer: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = await api.client.post("/api/testimonials", json=body, headers=customer)

    assert_problem(response, 400, field)
    assert (await stored(api))["testimonials"] == []


LIST_ROUTES = [
    pytest.param("/api/contact-messages", True, id="contact-messages"),
    pytest.param("/api/claims", True, id="claims"),
    pytest.param("/api/testimonials/pending", True, id="pending-testimonials"),
    pytest.param("/api/testimonials", False, id="public-testimonials"),
]

BAD_PAGES = [
    pytest.param("limit=0", "limit", id="limit-0"),
    pytest.param("limit=1000", "limit", id="limit-1000"),
    pytest.param("limit=201", "limit", id="limit-over-max"),
    pytest.param("limit=-5", "limit", id="limit-negative"),
    pytest.param("limit=abc", "limit", id="limit-not-a-number"),
    pytest.param("limit=1.5", "limit", id="limit-a-fraction"),
    pytest.param("limit=", "limit", id="limit-empty"),
    pytest.param("offset=-1", "offset", id="offset-negative"),
    pytest.param("offset=abc", "offset", id="offset-not-a-number"),
    pytest.param("offset=99999999999999999999", "offset", id="offset-huge"),
]


@pytest.mark.parametrize(("url", "admin_only"), LIST_ROUTES)
@pytest.mark.parametrize(("query", "field"), BAD_PAGES)
async def test_a_list_refuses_a_bad_page_naming_the_parameter(
    api: Api, admin: dict[str, str], url: str, admin_only: bool, query: str, field: str
) -> None:
    response = await api.client.get(f"{url}?{query}", headers=admin if admin_only else {})

    assert_problem(response, 400, field)


async def test_the_largest_page_is_allowed(api: Api, admin: dict[str, str]) -> None:
    response = await api.client.get("/api/claims?limit=200", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["limit"] == 200


@pytest.mark.parametrize(
    ("url", "field"),
    [
        pytest.param("/api/claims?status=closed", "status", id="claim-status-unknown"),
        pytest.param("/api/claims?status=OPEN", "status", id="claim-status-wrong-case"),
        pytest.param("/api/claims?status=", "status", id="claim-status-empty"),
        pytest.param("/api/contact-messages?unread=maybe", "unread", id="unread-not-a-bool"),
    ],
)
async def test_a_list_refuses_an_unknown_filter_value(
    api: Api, admin: dict[str, str], url: str, field: str
) -> None:
    response = await api.client.get(url, headers=admin)

    assert_problem(response, 400, field)


UNKNOWN_IDS = [
    pytest.param("01a209c5-d6d8-708c-80cd-2cd8fe02c794", 404, id="unknown-uuid"),
    pytest.param("nope", 404, id="not-an-id"),
    pytest.param("x" * 37, 400, id="too-long-for-an-id"),
    pytest.param("a%00b", 400, id="control-character"),
]


@pytest.mark.parametrize(("message_id", "status"), UNKNOWN_IDS)
async def test_marking_an_unknown_message_read_is_not_found(
    api: Api, admin: dict[str, str], message_id: str, status: int
) -> None:
    await send_contact(api)
    before = await stored(api)

    response = await api.client.post(f"/api/contact-messages/{message_id}/read", headers=admin)

    assert_problem(response, status)
    assert await stored(api) == before


@pytest.mark.parametrize(("claim_id", "status"), UNKNOWN_IDS)
async def test_answering_an_unknown_claim_is_not_found(
    api: Api, admin: dict[str, str], claim_id: str, status: int
) -> None:
    await file_claim(api)
    before = await stored(api)

    response = await api.client.post(
        f"/api/claims/{claim_id}/answer", json={"answer": "ok"}, headers=admin
    )

    assert_problem(response, status)
    assert await stored(api) == before


@pytest.mark.parametrize(("testimonial_id", "status"), UNKNOWN_IDS)
async def test_approving_an_unknown_testimonial_is_not_found(
    api: Api, admin: dict[str, str], customer: dict[str, str], testimonial_id: str, status: int
) -> None:
    await submit_testimonial(api, customer)
    before = await stored(api)

    response = await api.client.post(f"/api/testimonials/{testimonial_id}/approve", headers=admin)

    assert_problem(response, status)
    assert await stored(api) == before


# --- who may call what ------------------------------------------------------------------


async def protected_calls(api: Api) -> list[tuple[str, str, dict[str, Any] | None]]:
    """One call of each admin route, against existing resources."""
    message = await send_contact(api)
    filed = await file_claim(api)
    _, author = await api.user(Role.CUSTOMER)
    submitted = await submit_testimonial(api, author)
    return [
        ("GET", "/api/contact-messages", None),
        ("POST", f"/api/contact-messages/{message['id']}/read", None),
        ("GET", "/api/claims", None),
        ("POST", f"/api/claims/{filed['id']}/answer", {"answer": "Refunded"}),
        ("GET", "/api/testimonials/pending", None),
        ("POST", f"/api/testimonials/{submitted['id']}/approve", None),
    ]


BAD_CREDENTIALS = [
    pytest.param({}, id="no-token"),
    pytest.param({"Authorization": "Bearer garbage"}, id="garbage-token"),
    pytest.param({"Authorization": "Bearer "}, id="empty-token"),
    pytest.param({"Authorization": "Basic YWRtaW46YWRtaW4="}, id="basic-auth"),
    pytest.param({"Authorization": "garbage"}, id="no-scheme"),
    pytest.param(
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}, id="unsigned-jwt"
    ),
]


@pytest.mark.parametrize("headers", BAD_CREDENTIALS)
async def test_admin_routes_refuse_callers_without_valid_credentials(
    api: Api, headers: dict[str, str]
) -> None:
    calls = await protected_calls(api)
    before = await stored(api)

    for method, url, body in calls:
        response = await api.client.request(method, url, json=body, headers=headers)
        assert response.status_code == 401, (method, url, response.text)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"

    assert await stored(api) == before


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT])
async def test_admin_routes_forbid_customers_and_agents(api: Api, role: Role) -> None:
    calls = await protected_calls(api)
    _, caller = await api.user(role)
    before = await stored(api)

    for method, url, body in calls:
        response = await api.client.request(method, url, json=body, headers=caller)
        assert response.status_code == 403, (method, url, response.text)
        assert_problem(response, 403)

    assert await stored(api) == before


@pytest.mark.parametrize("headers", BAD_CREDENTIALS)
async def test_submitting_a_testimonial_needs_a_signed_in_customer(
    api: Api, headers: dict[str, str]
) -> None:
    response = await api.client.post("/api/testimonials", json=new_testimonial(), headers=headers)

    assert_problem(response, 401)
    assert (await stored(api))["testimonials"] == []


async def test_agents_may_not_submit_testimonials(api: Api, agent: dict[str, str]) -> None:
    response = await api.client.post("/api/testimonials", json=new_testimonial(), headers=agent)

    assert_problem(response, 403)
    assert (await stored(api))["testimonials"] == []


async def test_public_lists_show_only_approved_testimonials_whoever_asks(
    api: Api, customer: dict[str, str], admin: dict[str, str]
) -> None:
    await submit_testimonial(api, customer)

    for headers in ({}, customer, admin):
        response = await api.client.get("/api/testimonials", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


async def test_the_public_testimonial_list_cannot_be_asked_for_pending_ones(api: Api) -> None:
    _, customer = await api.user(Role.CUSTOMER)
    await submit_testimonial(api, customer)

    response = await api.client.get("/api/testimonials?status=pending")

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


async def test_refused_calls_never_store_anything_across_every_feedback_route(
    api: Api,
) -> None:
    """A sweep over one app: refusals of every kind leave the feedback context empty."""
    _, customer = await api.user(Role.CUSTOMER)
    calls: list[tuple[str, str, dict[str, str], Any]] = [
        ("POST", "/api/contact-messages", {}, contact(email="bad")),
        ("POST", "/api/claims", {}, claim(kind="bad")),
        ("POST", "/api/testimonials", customer, new_testimonial(rating=9)),
        ("POST", "/api/testimonials", {}, new_testimonial()),
    ]
    for method, url, headers, body in calls:
        response = await api.client.request(method, url, json=body, headers=headers)
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/problem+json"

    assert await stored(api) == {"contact_messages": [], "claims": [], "testimonials": []}
