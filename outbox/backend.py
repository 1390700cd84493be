"""The dev outbox: with no EMAIL_URL and no EMAIL_PROVIDER, mail lands here as .eml files.

The author can open the files directly (var/outbox/) or through the admin (/admin/outbox/,
outbox.views).
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


def outbox_dir():
    path = Path(settings.OUTBOX_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


class OutboxEmailBackend(BaseEmailBackend):
    """Write each message to its own .eml file (RFC 5322 bytes, as an SMTP server gets them)."""

    def send_messages(self, email_messages):
        folder = outbox_dir()
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            (folder / name).write_bytes(message.message().as_bytes(linesep="\r\n"))
        return len(email_messages)
