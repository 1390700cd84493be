"""Transports for the sending engine, each answering per message with an Outcome.

- PooledSMTP: one SMTP connection per sending thread, reused for every mail (never one
  connection per mail), SMTPUTF8 for internationalised addresses, DKIM (dkim.py).
  Each worker process sends over SMTP_CONNECTIONS_PER_WORKER such connections at once.
- DjangoMail: anymail ESPs and any other Django backend, one message per call on a
  connection kept open. Batch calls (many readers per API call) are in batching.py.
"""

import contextlib
import io
import logging
import secrets
import smtplib
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email import policy
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.utils import parseaddr

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection

from newsletter.sending.ratelimit import retry_after_seconds
from newsletter.sending.smtp import dkim

logger = logging.getLogger(__name__)

SENT, TRANSIENT, PERMANENT = "sent", "transient", "permanent"
# Django's SMTP backend and its signing subclass (system mails): both mean SMTP.
SMTP_BACKENDS = (
    "django.core.mail.backends.smtp.EmailBackend",
    "newsletter.sending.smtp.mail_backend.SMTPEmailBackend",
)


@dataclass(frozen=True)
class WireMail:
    """A mail ready for the SMTP conversation: bytes made, addresses in ASCII (wire.py)."""

    sender: str
    recipient: str
    raw: bytes
    message_id: str


@dataclass(frozen=True)
class Outcome:
    status: str  # SENT, TRANSIENT or PERMANENT
    provider_message_id: str = ""
    error: str = ""
    retry_after: float = 0.0  # seconds the provider asked us to wait (429/503 Retry-After)


def transport_name():
    """The key for rate limits, circuit breaker and error counts: smtp, postmark, …"""
    backend = settings.EMAIL_BACKEND
    if backend in SMTP_BACKENDS:
        return "smtp"
    if backend.startswith("anymail.backends."):
        return backend.split(".")[2]
    return backend.rsplit(".", 2)[-2]


def is_ascii(text):
    return text.isascii()


def envelope_address(address):
    """Domain as IDNA (always valid); the local part is left as is (may need SMTPUTF8)."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def mime_of(message):
    """The message's MIME tree with a multipart boundary already set.

    Left unset, the email generator draws one and then searches every part's text for
    it, per mail. A random 128-bit boundary cannot occur in text written before it was
    drawn, so that search is skipped.
    """
    mime = message.message()
    if mime.is_multipart() and mime.get_boundary() is None:
        mime.set_boundary(f"=_rb_{secrets.token_hex(16)}")
    return mime


def message_bytes(message, recipient, utf8):
    """RFC 5322 bytes with CRLF; for SMTPUTF8 the To header carries the raw address.

    Django refuses a non-ASCII local part, so the message is built with a stand-in
    address and the real one is put into the header afterwards.
    """
    if not utf8:
        return mime_of(message).as_bytes(linesep="\r\n")
    real_to, message.to = message.to, ["stand-in@invalid.invalid"]
    try:
        mime = mime_of(message)
    finally:
        message.to = real_to
    name = getattr(message, "reader_name", "")
    local, _, domain = recipient.rpartition("@")
    mime.replace_header("To", str(Address(display_name=name, username=local, domain=domain)))
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=policy.SMTPUTF8.clone(linesep="\r\n")).flatten(mime)
    return buffer.getvalue()


class PooledSMTP:
    """One reused SMTP connection; reconnects when the server dropped it."""

    IDLE_CHECK_SECONDS = 30
    # Connection failures in this process, over all its sending threads: after one, each
    # connection is checked before its next mail, since the server that dropped one may
    # have dropped all (a restart); else the first mail after an outage, often the
    # breaker's probe, fails on a dead connection and the cool-down doubles.
    failures = 0

    def __init__(self):
        self.connection = None
        self.last_used = 0.0
        self.failures_seen = PooledSMTP.failures

    def _open(self):
        host, port = settings.EMAIL_HOST, settings.EMAIL_PORT
        timeout = settings.EMAIL_TIMEOUT
        if settings.EMAIL_USE_SSL:
            connection = smtplib.SMTP_SSL(host, port, timeout=timeout)
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
            if settings.EMAIL_USE_TLS:
                connection.starttls(context=ssl.create_default_context())
        connection.ehlo_or_helo_if_needed()
        if settings.EMAIL_HOST_USER:
            connection.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
        return connection

    def _ready_connection(self):
        idle = time.monotonic() - self.last_used > self.IDLE_CHECK_SECONDS
        failed_since = self.failures_seen != PooledSMTP.failures
        self.failures_seen = PooledSMTP.failures
        if self.connection is not None and (idle or failed_since):
            try:
                self.connection.noop()
            except (smtplib.SMTPException, OSError):
                self.close()
        if self.connection is None:
            self.connection = self._open()
        return self.connection

    def close(self):
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
        self.connection = None

    def send(self, message):
        """Send a Django message (built the slow way; see wire.py for the fast one)."""
        recipient = envelope_address(message.envelope_recipient)
        sender = envelope_address(parseaddr(message.from_email)[1])
        message_id = message.extra_headers.get("Message-ID", "")
        return self.deliver(
            sender, recipient, lambda utf8: message_bytes(message, recipient, utf8), message_id
        )

    def send_wire(self, mail):
        """Send a wire.WireMail: its bytes are ready and its addresses ASCII."""
        return self.deliver(mail.sender, mail.recipient, lambda utf8: mail.raw, mail.message_id)

    def deliver(self, sender, recipient, raw_for, message_id):
        """One SMTP transaction; `raw_for(utf8)` gives the message bytes."""
        try:
            connection = self._ready_connection()
            utf8 = not (is_ascii(recipient) and is_ascii(sender))
            if utf8 and not connection.has_extn("smtputf8"):
                return Outcome(
                    PERMANENT,
                    error="smtp: the server does not support SMTPUTF8, "
                    "needed for this internationalised address",
                )
            raw = dkim.sign(raw_for(utf8), sender)
            options = mail_options(connection, raw, utf8)
            if utf8 or not connection.has_extn("pipelining"):
                connection.sendmail(sender, [recipient], raw, mail_options=options)
            else:
                send_pipelined(connection, sender, recipient, raw, options)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            return smtp_outcome(code, reply)
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
            # A data error answers for this message; a refused sender concerns every mail,
            # so it counts as transient and lets the circuit breaker pause the send.
            per_message = isinstance(error, smtplib.SMTPDataError)
            return smtp_outcome(error.smtp_code, error.smtp_error, per_message=per_message)
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            self.close()
            PooledSMTP.failures += 1  # a lost count between threads only skips a check
            return Outcome(TRANSIENT, error=f"smtp: {type(error).__name__}: {error}"[:500])
        finally:
            self.last_used = time.monotonic()
        return Outcome(SENT, provider_message_id=message_id)


def mail_options(connection, raw, utf8):
    """MAIL FROM parameters: an 8-bit body is announced where the server takes one
    (RFC 6152); SMTPUTF8 implies it."""
    if utf8:
        return ["SMTPUTF8", "BODY=8BITMIME"]
    if not raw.isascii() and connection.has_extn("8bitmime"):
        return ["BODY=8BITMIME"]
    return []


def send_pipelined(connection, sender, recipient, raw, options=()):
    """smtplib's sendmail for one ASCII recipient, in two round trips instead of four.

    PIPELINING (RFC 2920): MAIL, RCPT and DATA go out in one write and their replies are
    read afterwards; then the message and its final dot. Raises what sendmail raises.
    """
    parameters = "".join(f" {option}" for option in options)
    commands = f"MAIL FROM:<{sender}>{parameters}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n"
    connection.send(commands.encode())
    mail_reply, rcpt_reply, data_reply = (connection.getreply() for _ in range(3))
    failed = mail_reply[0] != 250 or rcpt_reply[0] not in (250, 251) or data_reply[0] != 354
    if failed:
        if data_reply[0] == 354:  # the server wants a message anyway: an empty one ends it
            connection.send(b".\r\n")
            connection.getreply()
        reset(connection)
    if mail_reply[0] != 250:
        raise smtplib.SMTPSenderRefused(*mail_reply, sender)
    if rcpt_reply[0] not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: rcpt_reply})
    if data_reply[0] != 354:
        raise smtplib.SMTPDataError(*data_reply)
    # smtplib's dot-stuffing scans the whole message; most have no line to stuff.
    needs_stuffing = raw.startswith(b".") or b"\n." in raw
    data = smtplib._quote_periods(raw) if needs_stuffing else raw
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    connection.send(data + b".\r\n")
    code, reply = connection.getreply()
    if code != 250:
        reset(connection)
        raise smtplib.SMTPDataError(code, reply)


def reset(connection):
    # As smtplib does: a server that hung up is found on the next command.
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        connection.rset()


def smtp_outcome(code, reply, per_message=True):
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    error = f"smtp: {code} {text}"[:500]
    if per_message and 500 <= code < 600:
        return Outcome(PERMANENT, error=error)
    return Outcome(TRANSIENT, error=error)


_smtp_local = threading.local()


def pooled_smtp():
    """This thread's SMTP connection for the current settings (never shared by threads)."""
    pool = _smtp_local.__dict__.setdefault("pool", {})
    key = (settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER)
    if key not in pool:
        pool[key] = PooledSMTP()
    return pool[key]


_smtp_senders = {}


def smtp_senders():
    """The process's sending threads, one reused connection each: while one thread waits
    for the server's reply (most of an SMTP transaction), the others send."""
    size = smtp_connections()
    if size not in _smtp_senders:
        _smtp_senders[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="smtp")
    return _smtp_senders[size]


def smtp_connections():
    return max(1, settings.SMTP_CONNECTIONS_PER_WORKER)


def send_over_smtp(message):
    if isinstance(message, WireMail):
        return pooled_smtp().send_wire(message)
    return pooled_smtp().send(message)


def messages_at_once():
    """How many messages the engine hands to send_messages at a time, and so the most a
    worker process can have in flight (sent, not yet recorded) when it is killed."""
    return smtp_connections() if transport_name() == "smtp" else 1


def anymail_error_outcome(error):
    """A whole-call ESP error: 429/5xx/network are transient, so is anything account-wide."""
    status = getattr(error, "status_code", None)
    error_text = f"{transport_name()}: {status or ''} {error}".strip()[:500]
    if isinstance(error, AnymailRecipientsRefused):
        return Outcome(PERMANENT, error=error_text)
    wait = retry_after_seconds(getattr(error, "response", None))
    return Outcome(TRANSIENT, error=error_text, retry_after=wait)


def anymail_recipient_outcome(status, fallback_error=""):
    if status is None:
        return Outcome(TRANSIENT, error=fallback_error or "no status from the provider")
    if status.status in ("rejected", "invalid"):
        return Outcome(PERMANENT, error=f"{transport_name()}: {status.status}")
    if status.status == "failed":
        return Outcome(TRANSIENT, error=f"{transport_name()}: failed")
    return Outcome(SENT, provider_message_id=status.message_id or "")


class DjangoMail:
    """Any other Django backend, one message per call on a connection kept open."""

    def __init__(self):
        self.connection = get_connection()
        self.connection.open()

    def send_one(self, message):
        message.connection = self.connection
        try:
            message.send()
        except (AnymailAPIError, AnymailRecipientsRefused) as error:
            return anymail_error_outcome(error)
        except AnymailError as error:  # bad payload for this message: do not retry it
            return Outcome(PERMANENT, error=f"{transport_name()}: {error}"[:500])
        except (OSError, smtplib.SMTPException) as error:
            return Outcome(TRANSIENT, error=f"{type(error).__name__}: {error}"[:500])
        status = getattr(message, "anymail_status", None)
        recipient = status.recipients.get(message.envelope_recipient) if status else None
        if status is not None and status.recipients:
            return anymail_recipient_outcome(recipient)
        return Outcome(SENT, provider_message_id=message.extra_headers.get("Message-ID", ""))


def partial_batch_outcomes(error, messages):
    """Per-message answers of a Postmark batch that anymail turned into one error
    (`messages`: one item per message in the call, in order).

    Anymail raises for the whole call when one entry has an error code it does not know,
    although the other messages went out; reading the answers keeps them from being sent
    twice. Postmark answers in the order of the request.
    """
    try:
        answers = error.response.json()
    except (AttributeError, ValueError):
        return None
    if not isinstance(answers, list) or len(answers) != len(messages):
        return None
    outcomes = []
    for answer in answers:
        code, text = answer.get("ErrorCode", 0), answer.get("Message", "")
        if code == 0:
            outcomes.append(Outcome(SENT, provider_message_id=answer.get("MessageID", "")))
        elif code in (300, 406):  # invalid address, inactive recipient
            outcomes.append(Outcome(PERMANENT, error=f"postmark: {code} {text}"[:500]))
        else:
            outcomes.append(Outcome(TRANSIENT, error=f"postmark: {code} {text}"[:500]))
    return outcomes


_django_mail = {}


def django_mail():
    backend = settings.EMAIL_BACKEND
    if backend not in _django_mail:
        _django_mail[backend] = DjangoMail()
    return _django_mail[backend]


def send_messages(messages):
    """Send built messages with the configured transport; one Outcome each, in order.
    Over SMTP they go out concurrently, one per connection."""
    if transport_name() == "smtp":
        return list(smtp_senders().map(send_over_smtp, messages))
    return [django_mail().send_one(message) for message in messages]
