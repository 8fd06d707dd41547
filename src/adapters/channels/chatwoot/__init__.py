"""Chatwoot, with Talia as the inbox's agent bot: webhook events in (``webhook``), replies
and hand-offs out (``sender``), attachments in (``media``).

Chatwoot POSTs agent-bot events (JSON) to the bot's outgoing URL. While a conversation is
``pending`` the bot answers through the application API; handing off to humans is setting
the conversation ``open``. Chatwoot numbers conversations per account (``display_id``): that
number is the ``id`` of a webhook's ``conversation`` and the one the API's paths take, so it
is the thread.
"""
