"""The one message every sender in the benchmark sends: a typical issue for one reader.

The transport ceiling (smtp-source) and the peer send these same bytes, or the same
HTML body, so that every side moves the same amount of mail.
"""


def rundbrief_render(issue, reader_name="Reader 1"):
    """(subject, html, text) as Rundbrief personalises it."""
    from newsletter.rendering import Recipient, render_issue

    recipient = Recipient(
        email="reader1@example.test",
        name=reader_name,
        unsubscribe_url="http://127.0.0.1:8000/u/su1n000000000000000001/",
        preferences_url="http://127.0.0.1:8000/preferences/re0000000000000000000001/",
        web_url=f"http://127.0.0.1:8000/{issue.newsletter.slug}/{issue.slug}/",
    )
    return render_issue(issue).personalise(recipient)


def reference(issue):
    """(subject, html, text, origin) of the benchmark message."""
    return (*rundbrief_render(issue), "newsletter.rendering.render_issue")


def engine_message(issue):
    """The exact bytes the sending engine puts on the wire for reader 1."""
    from newsletter.sending.emails import Reader, build_message
    from newsletter.sending.smtp.wire import message_bytes

    reader = Reader(
        delivery_id=1,
        subscriber_id=1,
        email="reader1@example.test",
        name="Reader 1",
        custom_fields={},
        unsubscribe_url="http://127.0.0.1:8000/u/su1n000000000000000001/",
        preferences_url="http://127.0.0.1:8000/preferences/re0000000000000000000001/",
    )
    message = build_message(issue, reader)
    return message_bytes(message, reader.email, utf8=False)


def raw_message(issue):
    """(RFC 5322 bytes for one reader, where they came from, HTML size in bytes)."""
    html = reference(issue)[1]
    engine_bytes = engine_message(issue)
    return engine_bytes, "newsletter.sending.emails.build_message", len(html.encode())
