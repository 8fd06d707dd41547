"""E-mail senders: SMTP (aiosmtplib) and a directory of ``.eml`` files for offline use."""
