"""The copy-paste HTML form that lets any website sign readers up for a newsletter."""

from django.template.loader import render_to_string
from django.utils import translation

from config.site import absolute_reverse


def embed_snippet(newsletter) -> str:
    """Plain HTML (no script, no inline style) that posts to the embed endpoint."""
    action = absolute_reverse("subscribers:embed_subscribe", newsletter_slug=newsletter.slug)
    with translation.override(newsletter.language):
        return render_to_string(
            "subscribers/embed_snippet.html", {"newsletter": newsletter, "action": action}
        ).strip()
