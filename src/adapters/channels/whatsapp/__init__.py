"""WhatsApp through Meta's Cloud API (the Graph API): webhooks in (``webhook``), messages out
(``sender``), attachments in (``media``), and how the Graph API answers (``graph``)."""
