"""WhatsApp through Twilio: webhook signatures and parsing (``webhook``), the Messages API
(``sender``), media downloads (``media``).

Inbound   Twilio POSTs ``application/x-www-form-urlencoded`` to our webhook and signs it
          ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed by the account's auth token, of the
          URL Twilio called followed by every POST parameter's name and value, sorted by name
          (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
          ``signature_valid`` checks it the way ``twilio.request_validator.RequestValidator``
          does; ``parse_message`` and ``parse_status`` read the incoming-message webhook and
          the status callback.
Outbound  POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic
          AccountSid:AuthToken, form fields To, From, Body, MediaUrl, StatusCallback, or
          ContentSid + ContentVariables for a template (Content API) -> 201 with the Message
          resource as JSON, whose ``sid`` names it; a refusal is Twilio's error JSON
          ``{"code": 21211, "message": ..., "more_info": ..., "status": 400}``.
Media     ``MediaUrl{N}`` points at api.twilio.com (HTTP Basic, when the account enforces it),
          which redirects to a CDN URL that needs no credentials.
"""

SERVICE = "twilio"
