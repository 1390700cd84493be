"""The public archive: site index, newsletter landing pages, issue pages, robots.txt.

Server-rendered, no JavaScript. Each view reads a small state (newsletter.archive), answers
a conditional GET with 304, and takes the expensive parts from the cache.
"""

from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET

from newsletter import archive
from newsletter.models import Issue, Newsletter
from newsletter.rendering import neutral_text, render_subject_for_web, render_web

try:  # helper A's signup form, when present; the template falls back to plain fields
    from subscribers.forms import SignupForm
except ImportError:  # pragma: no cover - only while the subscribers app lacks it
    SignupForm = None


def signup_form(newsletter):
    return SignupForm(newsletter=newsletter) if SignupForm else None


def absolute(path):
    return settings.SITE_URL + path


def render_in_language(request, template, context, language, state):
    """Render in the newsletter's language and attach ETag / Last-Modified."""
    with translation.override(language):
        response = render(request, template, context)
    response["Content-Language"] = language
    return archive.add_validators(response, state)


@require_GET
def index(request):
    newsletters = list(Newsletter.objects.public())
    state = archive.index_state(newsletters)
    if response := archive.not_modified(request, state):
        return response
    context = {"newsletters": newsletters, "canonical_url": absolute(reverse("newsletter:index"))}
    response = render(request, "newsletter/index.html", context)
    return archive.add_validators(response, state)


def page_number(request):
    raw = request.GET.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise Http404("No such page.")
    return int(raw)


def issue_summaries(newsletter, page):
    """One page of the archive as plain dicts (cacheable, no model instances)."""
    start = (page - 1) * archive.PAGE_SIZE
    issues = Issue.objects.in_archive().filter(newsletter=newsletter)
    rows = issues.only("subject", "slug", "preview_text", "sent_at")[
        start : start + archive.PAGE_SIZE
    ]
    return [
        {
            "subject": render_subject_for_web(issue),
            "preview_text": neutral_text(issue.preview_text),
            "url": reverse(
                "newsletter:issue", kwargs={"slug": newsletter.slug, "issue_slug": issue.slug}
            ),
            "sent_at": issue.sent_at,
        }
        for issue in rows
    ]


@require_GET
def detail(request, slug):
    newsletter = archive.newsletter_by_slug(slug)
    if newsletter is None:
        raise Http404("No such newsletter.")
    page = page_number(request)
    state, total = archive.newsletter_state(newsletter, page)
    if not newsletter.archive_public:
        total = 0  # a private archive: the landing page only offers the signup
    if response := archive.not_modified(request, state):
        return response
    pages = max((total + archive.PAGE_SIZE - 1) // archive.PAGE_SIZE, 1)
    if page > pages:
        raise Http404("No such page.")
    issues = []
    if newsletter.archive_public:
        issues = archive.cached("list", state, lambda: issue_summaries(newsletter, page))
    path = newsletter.get_absolute_url()
    context = {
        "newsletter": newsletter,
        "issues": issues,
        "page": page,
        "pages": pages,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < pages else None,
        "form": signup_form(newsletter),
        "canonical_url": absolute(path + (f"?page={page}" if page > 1 else "")),
    }
    return render_in_language(
        request, "newsletter/detail.html", context, newsletter.language, state
    )


def share_links(url, title):
    url_q, title_q = quote(url, safe=""), quote(title, safe="")
    return [
        ("Mastodon", f"https://mastodon.social/share?text={title_q}%20{url_q}"),
        ("Bluesky", f"https://bsky.app/intent/compose?text={title_q}%20{url_q}"),
        ("LinkedIn", f"https://www.linkedin.com/sharing/share-offsite/?url={url_q}"),
        ("X", f"https://twitter.com/intent/tweet?url={url_q}&text={title_q}"),
        ("Facebook", f"https://www.facebook.com/sharer/sharer.php?u={url_q}"),
        ("email", f"mailto:?subject={title_q}&body={url_q}"),
    ]


def rendered_issue_page(issue):
    """The parts of an issue page that cost rendering: cached per issue version."""
    return {
        "subject": render_subject_for_web(issue),
        "description": neutral_text(issue.preview_text),
        "body": render_web(issue),
    }


@require_GET
def issue(request, slug, issue_slug):
    found = archive.archive_issue(slug, issue_slug)
    if found is None:
        raise Http404("No such issue in the archive.")
    state = archive.issue_state(found)
    if response := archive.not_modified(request, state):
        return response
    parts = archive.cached("issue", state, lambda: rendered_issue_page(found))
    canonical_url = absolute(found.get_absolute_url())
    context = {
        "newsletter": found.newsletter,
        "issue": found,
        "subject": parts["subject"],
        "description": parts["description"],
        "body": parts["body"],
        "form": signup_form(found.newsletter),
        "canonical_url": canonical_url,
        "share_links": share_links(canonical_url, parts["subject"]),
    }
    return render_in_language(
        request, "newsletter/issue.html", context, found.newsletter.language, state
    )


@require_GET
def robots_txt(request):
    private = ("/admin/", "/u/", "/confirm/", "/preferences/", "/embed/")
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in private)]
    lines.append(f"Sitemap: {absolute(reverse('newsletter:sitemap'))}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
