"""The settings of the Outlook calendar through Microsoft Graph (``TALIA_OUTLOOK__*``)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class OutlookSettings(BaseModel):
    """Outlook calendars through Microsoft Graph, with an app registration's client
    credentials (application permission Calendars.ReadWrite, admin consent)."""

    tenant_id: str = Field("", description="The Microsoft Entra tenant (directory) id.")
    client_id: str = Field("", description="The app registration's application (client) id.")
    client_secret: SecretStr = Field(SecretStr(""), description="A client secret of the app.")
    mailbox: str = Field(
        "",
        pattern=r"^([^@\s/]+@[^@\s/]+)?$",
        description="The SMTP address of the mailbox whose calendar holds the appointments.",
    )
    authority: str = Field("https://login.microsoftonline.com", pattern="^https?://")
    graph_url: str = Field("https://graph.microsoft.com/v1.0", pattern="^https?://")
    teams_link: bool = Field(False, description="Make each appointment a Teams meeting.")

    def missing(self) -> list[str]:
        """The variables Outlook needs that are empty."""
        return [
            f"TALIA_OUTLOOK__{name.upper()}"
            for name, value in (
                ("tenant_id", self.tenant_id),
                ("client_id", self.client_id),
                ("client_secret", self.client_secret.get_secret_value()),
                ("mailbox", self.mailbox),
            )
            if not value
        ]
