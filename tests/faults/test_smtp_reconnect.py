"""Pooled SMTP connections after the server was away: each sending thread keeps its own
connection, and one that was opened before an outage is dead although it was used only
seconds ago. After a connection failure in the process, the others are checked (NOOP)
before their next mail, so the first mail after the server is back (the breaker's probe)
does not fail on a dead connection and double the breaker's cool-down."""

import pytest

from newsletter.sending.outcomes import SENT, TRANSIENT
from newsletter.sending.smtp.connection import PooledSMTP
from newsletter.sending.smtp.wire import WireMail
from tests.conftest import send_over_smtp_to
from tests.faults.smtp import FlakySMTPServer


def mail(to):
    raw = f"From: news@example.org\r\nTo: {to}\r\nSubject: hello\r\n\r\nHello.\r\n".encode()
    return WireMail("news@example.org", to, raw, f"<{to}>")


@pytest.fixture
def server(settings):
    server = FlakySMTPServer()
    server.controller.start()
    send_over_smtp_to(settings, server.port)
    yield server
    server.controller.stop()


def test_a_connection_opened_before_an_outage_is_checked_after_another_one_failed(server):
    first, second = PooledSMTP(), PooledSMTP()  # two sending threads
    assert first.send_wire(mail("a@example.com")).status == SENT
    assert second.send_wire(mail("b@example.com")).status == SENT
    server.go_down(0.3).join()  # the server closes both connections, then is back

    assert first.send_wire(mail("c@example.com")).status == TRANSIENT
    assert second.send_wire(mail("d@example.com")).status == SENT
    assert first.send_wire(mail("c@example.com")).status == SENT
    assert [m.rcpt_tos[0] for m in server.received][-2:] == ["d@example.com", "c@example.com"]
    first.close()
    second.close()


def test_without_failures_a_busy_connection_is_not_checked(server):
    connection = PooledSMTP()
    for n in range(3):
        assert connection.send_wire(mail(f"r{n}@example.com")).status == SENT
    assert server.handler.noops == 0
    connection.close()
