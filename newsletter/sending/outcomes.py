"""What a send answers per message: an Outcome that is sent, transient (retry) or
permanent (fail), with the error text bounded for the ledger's column."""

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SENT, TRANSIENT, PERMANENT = "sent", "transient", "permanent"
ERROR_LENGTH = 500  # what the ledger keeps of an error, and what the admin shows


@dataclass(frozen=True)
class Outcome:
    status: str  # SENT, TRANSIENT or PERMANENT
    provider_message_id: str = ""
    error: str = ""
    retry_after: float = 0.0  # seconds the provider asked us to wait (429/503 Retry-After)


def bounded(text):
    """An error text cut to what the ledger keeps."""
    return text[:ERROR_LENGTH]


def cannot_build(reader, error):
    """A reader's data that cannot become a mail: logged, and never retried."""
    logger.exception("delivery %s: cannot build the message", reader.delivery_id)
    return Outcome(PERMANENT, error=bounded(f"build: {error}"))
