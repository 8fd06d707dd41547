"""Outbound webhooks: events posted to the business's own systems, signed."""
