"""Links mailed to an address: verifying it, and a new password; each works once, for a while."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talia_core.identity.model import AuditAction, RevocationReason, User
from talia_core.shared.errors import RuleViolated, Unauthorized
from talia_core.shared.jobs import JobStatus
from talia_core.shared.pagination import PageRequest
from tests.unit.identity.conftest import PASSWORD, Accounts, fresh_identity
from tests.unit.identity.mail import mail_sent, token_in

EMAIL = "ana@example.com"
NEW_PASSWORD = "brand new pass 7"


async def _registered(accounts: Accounts) -> str:
    """Register Ana; the token of the verification link she was mailed."""
    await accounts.auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    [message] = await mail_sent(accounts.jobs, accounts.sender)
    return token_in(message, "verify")


async def _reset_token(accounts: Accounts) -> str:
    await accounts.recovery.forgot_password(EMAIL)
    [message] = await mail_sent(accounts.jobs, accounts.sender)
    assert message.to == EMAIL
    return token_in(message, "reset")


async def _user(accounts: Accounts) -> User:
    async with accounts.uow() as work:
        found = await work.users.find_by_email(EMAIL)
    assert found is not None
    return found


async def _refused(attempt: Awaitable[object]) -> None:
    """The attempt is refused as a token that is not (or no longer) good, naming it."""
    with pytest.raises(RuleViolated) as refused:
        await attempt
    assert refused.value.fields == {"token": "invalid"}


async def test_following_the_verification_link_verifies_the_address_once(
    accounts: Accounts,
) -> None:
    token = await _registered(accounts)

    verified = await accounts.recovery.verify_email(token, ip="10.0.0.3", user_agent="phone")

    assert verified.email_verified_at == accounts.clock.now()
    assert (await _user(accounts)).email_verified
    await _refused(accounts.recovery.verify_email(token))


async def test_a_verification_link_expires_after_its_lifetime(accounts: Accounts) -> None:
    token = await _registered(accounts)
    accounts.clock.advance(timedelta(hours=24))

    await _refused(accounts.recovery.verify_email(token))
    assert not (await _user(accounts)).email_verified


@pytest.mark.parametrize("token", ["", "x" * 101, "not-a-token-we-made"])
async def test_a_token_never_issued_is_refused_naming_the_token(
    accounts: Accounts, token: str
) -> None:
    await _refused(accounts.recovery.verify_email(token))


async def test_a_new_verification_link_is_mailed_on_request_until_the_address_is_verified(
    accounts: Accounts,
) -> None:
    first = await _registered(accounts)
    signed_in = await accounts.auth.login(email=EMAIL, password=PASSWORD, ip=None, user_agent=None)
    principal = await accounts.auth.authenticate(signed_in.access_token)
    accounts.clock.advance(timedelta(minutes=1))

    await accounts.recovery.resend_verification(principal)
    [again] = await mail_sent(accounts.jobs, accounts.sender)
    await accounts.recovery.verify_email(token_in(again, "verify"))
    accounts.clock.advance(timedelta(minutes=1))
    await accounts.recovery.resend_verification(principal)

    assert token_in(again, "verify") != first
    assert await mail_sent(accounts.jobs, accounts.sender) == []


async def test_forgetting_the_password_of_an_unknown_address_mails_nothing(
    accounts: Accounts,
) -> None:
    await accounts.recovery.forgot_password("nobody@example.com")

    assert await mail_sent(accounts.jobs, accounts.sender) == []


async def test_a_reset_sets_the_password_ends_every_session_and_is_audited(
    accounts: Accounts,
) -> None:
    auth = accounts.auth
    await _registered(accounts)
    signed_in = await auth.login(email=EMAIL, password=PASSWORD, ip=None, user_agent=None)
    token = await _reset_token(accounts)

    await accounts.recovery.reset_password(token, NEW_PASSWORD, ip="10.0.0.4", user_agent="laptop")

    with pytest.raises(Unauthorized):
        await auth.authenticate(signed_in.access_token)
    with pytest.raises(Unauthorized):
        await auth.refresh(signed_in.refresh_token, ip=None, user_agent=None)
    with pytest.raises(Unauthorized):
        await auth.login(email=EMAIL, password=PASSWORD, ip=None, user_agent=None)
    await auth.login(email=EMAIL, password=NEW_PASSWORD, ip=None, user_agent=None)
    async with accounts.uow() as work:
        session = await work.sessions.get(signed_in.session_id)
        audit = await work.audit_events.find(
            PageRequest(limit=50), actor_id=None, action=AuditAction.PASSWORD_RESET, since=None
        )
    assert session.revoked_reason is RevocationReason.PASSWORD_RESET
    [event] = audit.items
    assert (event.actor_email, event.ip, event.details) == (EMAIL, "10.0.0.4", {"sessions": 1})
    assert (await _user(accounts)).email_verified


async def test_a_reset_link_works_once_and_takes_the_other_reset_links_with_it(
    accounts: Accounts,
) -> None:
    await _registered(accounts)
    older = await _reset_token(accounts)
    accounts.clock.advance(timedelta(minutes=1))
    newer = await _reset_token(accounts)

    await accounts.recovery.reset_password(newer, NEW_PASSWORD)

    for spent in (newer, older):
        await _refused(accounts.recovery.reset_password(spent, "yet another pass 8"))


async def test_a_password_the_rules_refuse_leaves_the_reset_link_working(
    accounts: Accounts,
) -> None:
    await _registered(accounts)
    token = await _reset_token(accounts)

    for refused_password, reason in [("password12", "too common"), ("ana12345678", None)]:
        with pytest.raises(RuleViolated) as refused:
            await accounts.recovery.reset_password(token, refused_password)
        assert "password" in refused.value.fields
        assert reason is None or refused.value.fields["password"] == reason
    await accounts.recovery.reset_password(token, NEW_PASSWORD)


async def test_a_reset_link_expires_after_its_lifetime(accounts: Accounts) -> None:
    await _registered(accounts)
    token = await _reset_token(accounts)
    accounts.clock.advance(timedelta(hours=1))

    await _refused(accounts.recovery.reset_password(token, NEW_PASSWORD))


async def test_a_verification_token_does_not_reset_a_password(accounts: Accounts) -> None:
    token = await _registered(accounts)

    await _refused(accounts.recovery.reset_password(token, NEW_PASSWORD))
    await accounts.recovery.verify_email(token)


async def test_a_reset_link_of_an_account_deactivated_since_is_refused(
    accounts: Accounts,
) -> None:
    await _registered(accounts)
    token = await _reset_token(accounts)
    user = await _user(accounts)
    async with accounts.uow() as work:
        user.set_active(False, at=accounts.clock.now())
        await work.users.update(user)
        await work.commit()

    await _refused(accounts.recovery.reset_password(token, NEW_PASSWORD))


async def test_a_mail_server_that_is_down_gets_the_message_again_later(
    accounts: Accounts,
) -> None:
    accounts.sender.fail_next(2)
    await accounts.auth.register(email=EMAIL, password=PASSWORD, name="Ana")

    assert await mail_sent(accounts.jobs, accounts.sender) == []
    accounts.clock.advance(timedelta(seconds=1))
    assert await mail_sent(accounts.jobs, accounts.sender) == []
    accounts.clock.advance(timedelta(seconds=1))
    [message] = await mail_sent(accounts.jobs, accounts.sender)
    assert message.to == EMAIL


async def test_a_message_the_server_refuses_for_good_leaves_its_job_dead(
    accounts: Accounts,
) -> None:
    accounts.sender.refuse_next()
    await accounts.auth.register(email=EMAIL, password=PASSWORD, name="Ana")

    assert await mail_sent(accounts.jobs, accounts.sender) == []
    [job] = (await accounts.jobs.list(PageRequest(limit=10))).items
    assert job.status is JobStatus.DEAD
    assert "550" in (job.last_error or "")


@settings(max_examples=30, deadline=None)
@given(tries=st.lists(st.sampled_from(["verify", "reset"]), min_size=1, max_size=6))
async def test_of_any_run_of_attempts_a_verification_token_verifies_once_and_resets_nothing(
    tries: list[str],
) -> None:
    accounts = fresh_identity()
    token = await _registered(accounts)
    succeeded = []
    for attempt in tries:
        try:
            if attempt == "verify":
                await accounts.recovery.verify_email(token)
            else:
                await accounts.recovery.reset_password(token, NEW_PASSWORD)
            succeeded.append(attempt)
        except RuleViolated:
            pass

    assert succeeded == (["verify"] if "verify" in tries else [])


async def _written(accounts: Accounts) -> tuple[Counter[str], int]:
    """The jobs recorded so far, by kind, and how many audit events."""
    async with accounts.uow() as work:
        jobs = await work.jobs.find(PageRequest(limit=100), status=None)
        audit = await work.audit_events.find(
            PageRequest(limit=100), actor_id=None, action=None, since=None
        )
    return Counter(job.kind for job in jobs.items), audit.total


async def test_asking_for_a_reset_link_does_the_same_work_for_any_address(
    accounts: Accounts,
) -> None:
    await _registered(accounts)
    added = []
    for address in (EMAIL, "nobody@example.com"):
        jobs, audited = await _written(accounts)
        await accounts.recovery.forgot_password(address, ip="10.0.0.9", user_agent="phone")
        jobs_after, audited_after = await _written(accounts)
        added.append((jobs_after - jobs, audited_after - audited))
    asked_at = accounts.clock.now()
    accounts.clock.advance(timedelta(seconds=5))

    [message] = await mail_sent(accounts.jobs, accounts.sender)

    assert added[0] == added[1] == (Counter({"identity.password_reset_requested": 1}), 0)
    assert message.to == EMAIL
    async with accounts.uow() as work:
        audit = await work.audit_events.find(
            PageRequest(), actor_id=None, action=AuditAction.PASSWORD_RESET_REQUESTED, since=None
        )
    [event] = audit.items
    assert (event.actor_email, event.ip, event.occurred_at) == (EMAIL, "10.0.0.9", asked_at)
