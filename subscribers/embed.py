"""The copy-paste HTML form that lets any website sign readers up for a newsletter."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


def embed_snippet(newsletter) -> str:
    """Plain HTML (no script, no inline style) that posts to the embed endpoint."""
    action = settings.SITE_URL + reverse(
        "subscribers:embed_subscribe", kwargs={"newsletter_slug": newsletter.slug}
    )
    with translation.override(newsletter.language):
        return render_to_string(
            "subscribers/embed_snippet.html", {"newsletter": newsletter, "action": action}
        ).strip()
