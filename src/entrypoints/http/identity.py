"""Identity routes: registration, tokens, sessions, admin user management and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter, URLEncodedBody
from pydantic import BeforeValidator, EmailStr, Field

from entrypoints.http.auth import Client, admin_only, public, signed_in
from entrypoints.http.errors import problems
from entrypoints.http.public_writes import NOT_LIMITED
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
from talia_core.identity.auth_service import AuthService
from talia_core.identity.email_tokens import MAX_TOKEN_LENGTH
from talia_core.identity.model import MAX_NAME_LENGTH, Principal, Role, Session
from talia_core.identity.recovery import AccountRecovery
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.shared.text import MAX_EMAIL_LENGTH

# PostgreSQL cannot hold NUL, and looking it up is a driver error there: refuse control
# characters in every text that only serves to find something.
Password = Annotated[str, Field(min_length=1, max_length=128)]


def _json_bool(value: object) -> object:
    # Litestar validates bodies in lax mode, which would read "no" or 0 as False.
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


JsonBool = Annotated[bool, BeforeValidator(_json_bool)]


class RegisterIn(Schema):
    email: EmailStr
    password: Password
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)


class EmailIn(Schema):
    email: EmailStr


Token = Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH, pattern=PRINTABLE)]


class TokenIn(Schema):
    token: Token


class PasswordResetIn(Schema):
    token: Token
    password: Password


class MailedOut(Out):
    """The same answer whether or not the address has an account."""

    detail: str


REGISTRATION_MAILED = MailedOut(
    detail="Check your e-mail: a message on how to continue is on its way."
)
RESET_MAILED = MailedOut(
    detail="If an account has this address, a link to choose a new password is on its way."
)


class LoginIn(Schema):
    email: EmailStr
    password: Password


class TokenForm(Schema):
    """The OAuth2 password grant (RFC 6749 §4.3)."""

    username: str = Field(min_length=1, max_length=MAX_EMAIL_LENGTH, pattern=PRINTABLE)
    password: Password
    grant_type: Literal["password"] | None = None
    scope: str | None = Field(None, max_length=200)


class RefreshIn(Schema):
    refresh_token: str = Field(min_length=1, max_length=200)


class UserOut(Out):
    id: str
    email: str
    name: str
    role: Role
    active: bool
    email_verified: bool
    created_at: datetime
    updated_at: datetime


class TokensOut(Out):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_expires_at: datetime
    user: UserOut


class SessionOut(Out):
    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


class UserIn(Schema):
    email: EmailStr
    password: Password
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    role: Role


class UserPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=MAX_NAME_LENGTH)
    role: Role | None = None
    active: JsonBool | None = None


class AuditEventOut(Out):
    id: str
    occurred_at: datetime
    actor_id: str | None
    actor_email: str | None
    action: str
    target: str | None
    ip: str | None
    user_agent: str | None
    details: dict[str, object]


class AuthController(Controller):
    path = "/api/auth"
    tags = ["identity"]

    @post("/register", guards=[public], status_code=202, responses=problems(400, 413, 422, 429))
    async def register(
        self,
        data: JSONBody[RegisterIn],
        auth: NamedDependency[AuthService],
        client: NamedDependency[Client],
    ) -> MailedOut:
        """Create a customer account, and mail the address a link to verify it.

        The answer is the same when the address already has an account: its owner is mailed
        instead (someone tried to register, with a link to reset the password) and nothing
        changes. A new account may sign in at once, verified or not.
        """
        await auth.register(
            email=str(data.email),
            password=data.password,
            name=data.name,
            ip=client.ip,
            user_agent=client.user_agent,
        )
        return REGISTRATION_MAILED

    @post("/verify", guards=[public], status_code=200, responses=problems(400, 413, 422, 429))
    async def verify(
        self,
        data: JSONBody[TokenIn],
        account_recovery: NamedDependency[AccountRecovery],
        client: NamedDependency[Client],
    ) -> UserOut:
        """Verify an address with the token mailed to it; each token works once."""
        user = await account_recovery.verify_email(
            data.token, ip=client.ip, user_agent=client.user_agent
        )
        return UserOut.model_validate(user)

    @post("/verify/resend", guards=[signed_in], status_code=202, responses=problems(401, 429))
    async def resend_verification(
        self,
        account_recovery: NamedDependency[AccountRecovery],
        principal: NamedDependency[Principal],
    ) -> None:
        """Mail the caller's address a new verification link (none once it is verified)."""
        await account_recovery.resend_verification(principal)

    @post(
        "/password/forgot",
        guards=[public],
        status_code=202,
        responses=problems(400, 413, 422, 429),
    )
    async def forgot_password(
        self,
        data: JSONBody[EmailIn],
        account_recovery: NamedDependency[AccountRecovery],
        client: NamedDependency[Client],
    ) -> MailedOut:
        """Mail a link to choose a new password; the same answer whether or not an account
        has the address."""
        await account_recovery.forgot_password(
            str(data.email), ip=client.ip, user_agent=client.user_agent
        )
        return RESET_MAILED

    @post(
        "/password/reset",
        guards=[public],
        status_code=204,
        responses=problems(400, 413, 422, 429),
    )
    async def reset_password(
        self,
        data: JSONBody[PasswordResetIn],
        account_recovery: NamedDependency[AccountRecovery],
        client: NamedDependency[Client],
    ) -> None:
        """Choose a new password with the token mailed; every session of the account ends.
        A password the rules refuse leaves the token working."""
        await account_recovery.reset_password(
            data.token, data.password, ip=client.ip, user_agent=client.user_agent
        )

    @post(
        "/login",
        guards=[public],
        opt=NOT_LIMITED,
        status_code=200,
        responses=problems(400, 401, 429),
    )
    async def login(
        self,
        data: JSONBody[LoginIn],
        auth: NamedDependency[AuthService],
        client: NamedDependency[Client],
    ) -> TokensOut:
        """Exchange e-mail and password for an access and a refresh token."""
        issued = await auth.login(
            email=str(data.email),
            password=data.password,
            ip=client.ip,
            user_agent=client.user_agent,
        )
        return TokensOut.model_validate(issued)

    @post(
        "/token",
        guards=[public],
        opt=NOT_LIMITED,
        status_code=200,
        responses=problems(400, 401, 429),
    )
    async def token(
        self,
        data: URLEncodedBody[TokenForm],
        auth: NamedDependency[AuthService],
        client: NamedDependency[Client],
    ) -> TokensOut:
        """The same as login, as an OAuth2 password-grant form."""
        issued = await auth.login(
            email=data.username, password=data.password, ip=client.ip, user_agent=client.user_agent
        )
        return TokensOut.model_validate(issued)

    @post(
        "/refresh",
        guards=[public],
        opt=NOT_LIMITED,
        status_code=200,
        responses=problems(400, 401),
    )
    async def refresh(
        self,
        data: JSONBody[RefreshIn],
        auth: NamedDependency[AuthService],
        client: NamedDependency[Client],
    ) -> TokensOut:
        """Spend a refresh token for a new pair; a spent one coming back ends its session."""
        issued = await auth.refresh(data.refresh_token, ip=client.ip, user_agent=client.user_agent)
        return TokensOut.model_validate(issued)

    @post("/logout", guards=[signed_in], status_code=204, responses=problems(401))
    async def logout(
        self,
        auth: NamedDependency[AuthService],
        principal: NamedDependency[Principal],
        client: NamedDependency[Client],
    ) -> None:
        """End the caller's session: its access and refresh tokens stop working at once."""
        await auth.logout(principal, ip=client.ip, user_agent=client.user_agent)

    @get("/me", guards=[signed_in], responses=problems(401))
    async def me(
        self, auth: NamedDependency[AuthService], principal: NamedDependency[Principal]
    ) -> UserOut:
        """The signed-in user."""
        return UserOut.model_validate(await auth.me(principal))

    @get("/sessions", guards=[signed_in], responses=problems(400, 401))
    async def sessions(
        self,
        auth: NamedDependency[AuthService],
        principal: NamedDependency[Principal],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOut[SessionOut]:
        """The caller's live sessions."""
        page = await auth.list_sessions(principal, page_request(limit, offset))

        def out(session: Session) -> SessionOut:
            return SessionOut(
                id=session.id,
                created_at=session.created_at,
                last_used_at=session.last_used_at,
                expires_at=session.expires_at,
                ip=session.ip,
                user_agent=session.user_agent,
                current=session.id == principal.session_id,
            )

        return page_out(page, out)

    @delete("/sessions/{session_id:str}", guards=[signed_in], responses=problems(400, 401, 404))
    async def revoke_session(
        self,
        session_id: Id,
        auth: NamedDependency[AuthService],
        principal: NamedDependency[Principal],
        client: NamedDependency[Client],
    ) -> None:
        """End one of the caller's sessions."""
        await auth.revoke_session(principal, session_id, ip=client.ip, user_agent=client.user_agent)


class UserAdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [admin_only]

    @get("/users", responses=problems(400, 401, 403))
    async def list_users(
        self,
        users: NamedDependency[UserAdminService],
        principal: NamedDependency[Principal],
        limit: Limit = 50,
        offset: Offset = 0,
        role: FromQuery[Role | None] = None,
        q: Annotated[
            str | None,
            QueryParameter(max_length=100, pattern=PRINTABLE, description="Name or e-mail."),
        ] = None,
    ) -> PageOut[UserOut]:
        """Users, filtered by role and text."""
        page = await users.list_users(principal, page_request(limit, offset), role=role, text=q)
        return page_out(page, UserOut.model_validate)

    @post("/users", responses=problems(400, 401, 403, 409, 422))
    async def create_user(
        self,
        data: JSONBody[UserIn],
        users: NamedDependency[UserAdminService],
        principal: NamedDependency[Principal],
        client: NamedDependency[Client],
    ) -> UserOut:
        """Create a user with any role."""
        user = await users.create_user(
            principal,
            email=str(data.email),
            name=data.name,
            password=data.password,
            role=data.role,
            ip=client.ip,
            user_agent=client.user_agent,
        )
        return UserOut.model_validate(user)

    @get("/users/{user_id:str}", responses=problems(400, 401, 403, 404))
    async def get_user(
        self,
        user_id: Id,
        users: NamedDependency[UserAdminService],
        principal: NamedDependency[Principal],
    ) -> UserOut:
        """One user."""
        return UserOut.model_validate(await users.get_user(principal, user_id))

    @patch("/users/{user_id:str}", responses=problems(400, 401, 403, 404, 409, 422))
    async def update_user(
        self,
        user_id: Id,
        data: JSONBody[UserPatch],
        users: NamedDependency[UserAdminService],
        principal: NamedDependency[Principal],
        client: NamedDependency[Client],
    ) -> UserOut:
        """Rename, change the role of, or (de)activate a user."""
        user = await users.update_user(
            principal,
            user_id,
            name=data.name,
            role=data.role,
            active=data.active,
            ip=client.ip,
            user_agent=client.user_agent,
        )
        return UserOut.model_validate(user)

    @delete("/users/{user_id:str}", responses=problems(400, 401, 403, 404, 409))
    async def delete_user(
        self,
        user_id: Id,
        users: NamedDependency[UserAdminService],
        principal: NamedDependency[Principal],
        client: NamedDependency[Client],
    ) -> None:
        """Deactivate a user and end all their sessions; the account is kept for the record."""
        await users.delete_user(principal, user_id, ip=client.ip, user_agent=client.user_agent)

    @get("/audit", responses=problems(400, 401, 403))
    async def audit(
        self,
        users: NamedDependency[UserAdminService],
        principal: NamedDependency[Principal],
        limit: Limit = 50,
        offset: Offset = 0,
        actor_id: Annotated[str | None, QueryParameter(max_length=36, pattern=PRINTABLE)] = None,
        action: Annotated[str | None, QueryParameter(max_length=64, pattern=PRINTABLE)] = None,
        since: Annotated[
            datetime | None,
            QueryParameter(description="ISO 8601; without an offset it is read as UTC."),
        ] = None,
    ) -> PageOut[AuditEventOut]:
        """Who did what, when and from where; newest first."""
        page = await users.list_audit(
            principal,
            page_request(limit, offset),
            actor_id=actor_id,
            action=action,
            since=since if since is None or since.tzinfo else since.replace(tzinfo=UTC),
        )
        return page_out(page, AuditEventOut.model_validate)


CONTROLLERS = [AuthController, UserAdminController]
