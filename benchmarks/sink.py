"""Postfix's smtp-sink on a loopback port: accepts every mail, keeps none, counts them.

With -c it prints running counters (`sess=N quit=N mesg=N`, separated by carriage
returns); a reader thread keeps the latest `mesg` value, so the harness knows how many
mails reached the sink without trusting the sender's own bookkeeping.
"""

import re
import subprocess
import threading
import time

from benchmarks import tools
from benchmarks.procs import free_port, wait_for_port, wait_until

COUNTER = re.compile(rb"mesg=(\d+)")


class SmtpSink:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.messages = 0
        self.last_change = time.monotonic()
        self.process = None
        self._reader = None

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        tools.require("smtp-sink")
        # -u nobody: required when run as root; backlog 1024: workers connect at once.
        self.process = subprocess.Popen(
            [tools.SMTP_SINK, "-c", "-u", "nobody", "-m", "1024", self.address, "1024"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_counters, daemon=True)
        self._reader.start()
        wait_for_port(self.port)
        # Our own readiness probe opened one session; it carried no message.
        return self

    def _read_counters(self):
        buffer = b""
        while True:
            chunk = self.process.stdout.read1(65536)
            if not chunk:
                return
            buffer = (buffer + chunk)[-256:]
            found = COUNTER.findall(buffer)
            if found and int(found[-1]) != self.messages:
                self.messages = int(found[-1])
                self.last_change = time.monotonic()

    def wait_for(self, count, timeout, stall_timeout=120.0):
        """Block until `count` mails arrived; fail if none arrive for `stall_timeout` s."""

        def arrived():
            if time.monotonic() - self.last_change > stall_timeout:
                raise TimeoutError(
                    f"the sink stalled at {self.messages} of {count} mails for {stall_timeout:.0f}s"
                )
            return self.messages >= count

        wait_until(arrived, timeout, interval=0.02, what=f"{count} mails at the sink")
        return time.monotonic()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
