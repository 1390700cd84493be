"""The one message every sender in the benchmark sends: a typical issue for one reader.

The transport ceiling (smtp-source) and the peer send these same bytes, or the same
HTML body, so that every side moves the same amount of mail.
"""

from benchmarks import data


def rundbrief_render(issue, reader_name="Reader 1"):
    """(subject, html, text) as Rundbrief personalises it, or None before rendering lands."""
    try:
        from newsletter.rendering import Recipient, render_issue
    except ImportError:
        return None
    recipient = Recipient(
        email="reader1@example.test",
        name=reader_name,
        unsubscribe_url="http://127.0.0.1:8000/u/su1n000000000000000001/",
        preferences_url="http://127.0.0.1:8000/preferences/re0000000000000000000001/",
        web_url=f"http://127.0.0.1:8000/{issue.newsletter.slug}/{issue.slug}/",
    )
    return render_issue(issue).personalise(recipient)


def fallback_render():
    """A plain 8 KB issue when the renderer is not there yet (recorded in the report)."""
    section = "<h2>Section</h2><p>" + data.MARKDOWN_PARAGRAPH + "</p>"
    html = data.ISSUE_HTML_FALLBACK.format(
        name="Reader 1",
        sections="\n".join([section] * 16),
        unsubscribe_url="http://127.0.0.1:8000/u/su1n000000000000000001/",
    )
    return "This month at Benchmark Weekly", html, html


def reference(issue):
    """(subject, html, text, origin) of the benchmark message."""
    rendered = rundbrief_render(issue)
    if rendered:
        return (*rendered, "newsletter.rendering.render_issue")
    return (*fallback_render(), "fallback HTML (newsletter.rendering not available)")


def engine_message(issue):
    """The exact bytes the sending engine puts on the wire for reader 1, if it is there."""
    try:
        from newsletter.sending.backends import message_bytes

        from newsletter.sending.emails import Reader, build_message
    except ImportError:
        return None
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
    from django.core.mail import EmailMultiAlternatives

    subject, html, text, origin = reference(issue)
    engine_bytes = engine_message(issue)
    if engine_bytes:
        return engine_bytes, "newsletter.sending.emails.build_message", len(html.encode())

    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=issue.newsletter.from_header,
        to=["reader1@example.test"],
        headers={
            "List-Unsubscribe": "<http://127.0.0.1:8000/u/su1n000000000000000001/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    return message.message().as_bytes(), origin, len(html.encode())
