"""Channel adapters: WhatsApp Cloud API, Twilio, Chatwoot and the web chat."""
