"""The dev outbox in the admin: staff with the outbox permission list and read the .eml
files the outbox backend (outbox.backend) wrote."""

import email
import email.policy
from functools import wraps
from pathlib import Path

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render

from outbox.backend import outbox_dir

OUTBOX_PERMISSION = "newsletter.view_outbox"  # superusers have it too


def read_outbox_message(name):
    path = outbox_dir() / Path(name).name
    if path.suffix != ".eml" or not path.is_file():
        raise Http404("No such message in the outbox.")
    return path, email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def list_outbox(limit=200):
    files = sorted(outbox_dir().glob("*.eml"), reverse=True)[:limit]
    rows = []
    for path in files:
        with path.open("rb") as handle:
            headers = email.parser.BytesHeaderParser(policy=email.policy.default).parse(handle)
        rows.append(
            {
                "name": path.name,
                "subject": headers["Subject"],
                "to": headers["To"],
                "date": headers["Date"],
            }
        )
    return rows


def outbox_reader_required(view):
    """Staff with the outbox permission only: the mails hold readers' personal token links."""

    @staff_member_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.has_perm(OUTBOX_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


@outbox_reader_required
def outbox_list_view(request):
    context = {"title": "Dev outbox", "messages_in_outbox": list_outbox(), "folder": outbox_dir()}
    return render(request, "admin/outbox_list.html", context)


@outbox_reader_required
def outbox_message_view(request, name):
    path, message = read_outbox_message(name)
    if request.GET.get("part") == "raw":
        return HttpResponse(path.read_bytes(), content_type="text/plain; charset=utf-8")
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    context = {
        "title": message["Subject"],
        "name": path.name,
        "headers": list(message.items()),
        "text": text.get_content() if text else "",
        "has_html": html is not None,
    }
    if request.GET.get("part") == "html" and html is not None:
        response = HttpResponse(html.get_content())
        # Shown in a sandboxed frame: mail HTML carries its own inline styles.
        response["Content-Security-Policy"] = (
            "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
        )
        response["X-Frame-Options"] = "SAMEORIGIN"
        return response
    return render(request, "admin/outbox_message.html", context)
