"""The transport ceiling: Postfix's smtp-source blasting the same message into the sink.

smtp-source is a tight C loop; with -d it keeps each connection open for the next mail,
as Rundbrief's pooled SMTP connections do, and -s sets the number of connections.
"""

import subprocess
import time
from pathlib import Path

from benchmarks import tools
from benchmarks.sink import SmtpSink


def run_once(message_file: Path, count: int, connections: int):
    """One smtp-source run of `count` mails; returns mails/second measured at the sink."""
    with SmtpSink() as sink:
        started = time.monotonic()
        subprocess.run(
            [
                tools.require("smtp-source"),
                "-d",  # keep the connection for the next message
                "-s",
                str(connections),
                "-m",
                str(count),
                "-N",  # a different recipient per mail: reader1@, reader2@, ...
                "-f",
                "weekly@bench.example.test",
                "-t",
                "reader@example.test",
                "-F",
                str(message_file),
                sink.address,
            ],
            check=True,
            capture_output=True,
            timeout=3600,
        )
        finished = sink.wait_for(count, timeout=60)
        return {
            "mails": sink.messages,
            "seconds": finished - started,
            "per_second": count / (finished - started),
        }
