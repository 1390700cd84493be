"""The sink the benchmarks trust: Postfix's smtp-sink, counted, fed by smtp-source."""

import os
import subprocess

import pytest

from benchmarks import tools
from benchmarks.sink import SmtpSink

pytestmark = pytest.mark.skipif(
    not os.path.exists(tools.SMTP_SOURCE),
    reason="postfix's smtp-sink/smtp-source are installed by `make bench`, not by the tests",
)


def test_the_sink_counts_every_mail_that_arrives(tmp_path):
    message = tmp_path / "message.eml"
    message.write_text("From: a@example.org\nTo: b@example.org\nSubject: hi\n\nhello\n")
    with SmtpSink() as sink:
        subprocess.run(
            [
                tools.SMTP_SOURCE,
                "-d",
                "-s",
                "2",
                "-m",
                "250",
                "-N",
                "-t",
                "r@example.org",
                "-F",
                str(message),
                sink.address,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        sink.wait_for(250, timeout=10)
        assert sink.messages == 250


def test_waiting_for_more_mail_than_arrives_fails_instead_of_hanging():
    with SmtpSink() as sink, pytest.raises(TimeoutError):
        sink.wait_for(1, timeout=0.5)
