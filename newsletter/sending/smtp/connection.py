"""The pooled SMTP connection the engine sends its mails over: one reused connection per
sending thread (never one per mail), PIPELINING where the server offers it, SMTPUTF8 for
internationalised addresses, DKIM (dkim.py). Each worker process sends over
SMTP_CONNECTIONS_PER_WORKER such connections at once."""

import contextlib
import smtplib
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import parseaddr

from django.conf import settings

from newsletter.sending.outcomes import PERMANENT, SENT, TRANSIENT, Outcome, bounded
from newsletter.sending.smtp import dkim
from newsletter.sending.smtp.wire import WireMail, envelope_address, message_bytes


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
            utf8 = not (recipient.isascii() and sender.isascii())
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
            return Outcome(TRANSIENT, error=bounded(f"smtp: {type(error).__name__}: {error}"))
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
    error = bounded(f"smtp: {code} {text}")
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
