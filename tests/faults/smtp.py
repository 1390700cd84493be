"""A misbehaving SMTP server on loopback: busy answers, cut connections, refusals, outages.

- `busy_share`: that share of the addresses (chosen by a hash of the address, so the
  same readers every run) is answered `451` on its first `busy_times` RCPTs; later
  attempts go through, as with a greylisting or overloaded server.
- `drop_every`: every Nth message the server cuts the connection when the client has sent
  the message's final dot, before answering. With `keep_dropped` the server keeps that
  message first: the client cannot know it arrived, the worst case for duplicates.
- `reply` (from RecordingHandler): address -> "550 …" refuses that reader for good.
- `FlakySMTPServer.go_down(seconds)`: the server stops listening and comes back on the
  same port.

Records: `received` (every message kept), `arrivals` (monotonic time of each),
`busy_answers`, `drops`, `cut_after_taking`.
"""

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.conftest import ReceivedMail, RecordingHandler, SMTPServer, free_port


def in_share(address, share):
    """Deterministic: the same addresses are in the share on every run and every attempt."""
    digest = hashlib.sha256(address.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000 < share * 10_000


@dataclass
class FlakyHandler(RecordingHandler):
    busy_share: float = 0.0
    busy_times: int = 1
    drop_every: int = 0
    keep_dropped: bool = False
    arrivals: list = field(default_factory=list)
    rcpt_attempts: Counter = field(default_factory=Counter)
    busy_answers: int = 0
    data_count: int = 0
    drops: int = 0
    noops: int = 0
    cut_after_taking: list = field(default_factory=list)  # the messages kept, then cut

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts[address] += 1
        if address in self.reply:
            return self.reply[address]
        if in_share(address, self.busy_share) and self.rcpt_attempts[address] <= self.busy_times:
            self.busy_answers += 1
            return "451 4.3.0 Busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_NOOP(self, server, session, envelope, arg):
        self.noops += 1
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_count += 1
        if self.drop_every and self.data_count % self.drop_every == 0:
            self.drops += 1
            if self.keep_dropped:
                self.keep(envelope)
                self.cut_after_taking.append(self.received[-1])
            server.transport.abort()  # no answer: the client sees the connection die
            return "421 4.4.2 Connection dropped"
        self.keep(envelope)
        return "250 Message accepted"

    def keep(self, envelope):
        self.arrivals.append(time.monotonic())
        self.received.append(
            ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )


class FlakySMTPServer(SMTPServer):
    """SMTPServer with a FlakyHandler, and an outage on demand."""

    def __init__(self, **handler_options):
        self.handler = FlakyHandler(**handler_options)
        self.port = free_port()
        self.controller = self._controller()
        self.outages = []  # (went down, came back) in monotonic time

    def _controller(self):
        return Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def go_down(self, seconds):
        """Stop listening (open connections are closed) and come back after `seconds`,
        in a background thread; returns the thread."""

        def outage():
            self.controller.stop()
            down_at = time.monotonic()  # mails that were being taken are in by now
            time.sleep(seconds)
            self.controller = self._controller()
            self.controller.start()
            self.outages.append((down_at, time.monotonic()))

        thread = threading.Thread(target=outage, daemon=True)
        thread.start()
        return thread
