"""A loopback SMTP sink that timestamps each mail by recipient (aiosmtpd, in a thread).

Used only for the few confirmation mails of the latency measurement, where the harness
needs to know when the mail for one particular address arrived; the bulk mail goes to
Postfix's smtp-sink.
"""

import threading
import time

from aiosmtpd.controller import Controller

from benchmarks.procs import free_port


class _Handler:
    def __init__(self):
        self.arrived = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        now = time.time()
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.arrived.setdefault(recipient.lower(), now)
        return "250 Message accepted"


class RecordingSink:
    def __init__(self):
        self.port = free_port()
        self.handler = _Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def arrivals(self):
        with self.handler.lock:
            return dict(self.handler.arrived)

    def arrived_keys(self):
        return set(self.arrivals())

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
