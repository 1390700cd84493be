"""The public archive: site index, newsletter landing pages, issue pages, robots.txt.

Server-rendered, no JavaScript. Each view serves the whole page from one cache read
(newsletter.archive.page_cache) with this request's CSRF token and form time stamp filled
in, or answers a conditional GET with 304. Only when a newsletter or an issue changed does
it read the page's state from the database (newsletter.archive.state), and templates
render only when the page's rows changed.
"""

import re
from functools import partial
from urllib.parse import quote

from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET

from config.site import absolute_reverse, absolute_url
from newsletter.archive import page_cache, state
from newsletter.models import Issue, Newsletter
from newsletter.rendering import neutral_text, render_subject_for_web, render_web
from subscribers.forms import SignupForm
from subscribers.tokens import form_started_stamp

# ASCII digits only (str.isdigit also takes "²", which int() refuses) and a bounded length
# (int() refuses more than 4,300 digits); no archive has a million pages.
PAGE_RE = re.compile(r"[1-9][0-9]{0,5}")


def known_slugs(slug, issue_slug=""):
    """404 for slugs longer than any stored one: they name nothing, and would only make
    long cache keys."""
    too_long = len(slug) > Newsletter._meta.get_field("slug").max_length
    if too_long or len(issue_slug) > Issue._meta.get_field("slug").max_length:
        raise Http404("No such page.")


def render_with_sentinels(request, template, context, sentinels):
    """The page with sentinels where the CSRF token and the form's time stamp go."""
    newsletter = context.get("newsletter")
    if newsletter is not None:
        context["form"] = SignupForm(
            newsletter=newsletter, initial={"started": sentinels.form_started}
        )
    # The context wins over the csrf context processor, so get_token() is not called here.
    context["csrf_token"] = sentinels.csrf_token
    return render_to_string(template, context, request=request)


def served_page_response(request, identity, fresh_page):
    """The page for identity from the hot path, or fresh_page() on a miss; filled per request.

    identity names the page as the request does (kind, slugs, page, language): a hit
    reads no row. fresh_page reads the rows and may raise Http404, which is not cached.
    """
    key = page_cache.page_key(*identity)
    served, version = page_cache.lookup(key)
    if served is None:
        served = fresh_page()
        page_cache.store(key, version, served)
    if response := state.not_modified(request, served.state):
        return response
    html = served.page.filled(
        csrf_token=partial(get_token, request), form_started=form_started_stamp
    )
    response = HttpResponse(html)
    response["Content-Language"] = served.language
    return state.add_validators(response, served.state)


def built_page(request, *, kind, template, context, language, page_state):
    """The page for state from the content-keyed cache, rendered there on a miss.

    context is a callable: a cached page never builds it.
    """

    def build(sentinels):
        with translation.override(language):
            return render_with_sentinels(request, template, context(), sentinels)

    page = page_cache.cached_page(kind, page_state, language, build)
    return page_cache.ServedPage(page=page, state=page_state, language=language)


@require_GET
def index(request):
    language = translation.get_language()
    return served_page_response(request, ("index", language), partial(fresh_index, request))


def fresh_index(request):
    newsletters = list(Newsletter.objects.public())
    language = translation.get_language()
    return built_page(
        request,
        kind="index",
        template="newsletter/index.html",
        context=lambda: {
            "newsletters": newsletters,
            "canonical_url": absolute_reverse("newsletter:index"),
        },
        language=language,
        page_state=state.index_state(newsletters, language),
    )


def page_number(request):
    raw = request.GET.get("page", "1")
    if not PAGE_RE.fullmatch(raw):
        raise Http404("No such page.")
    return int(raw)


def issue_summaries(newsletter, page):
    """One page of the archive as plain dicts (cacheable, no model instances)."""
    start = (page - 1) * state.PAGE_SIZE
    issues = Issue.objects.in_archive().filter(newsletter=newsletter)
    rows = issues.only("subject", "slug", "preview_text", "sent_at")[
        start : start + state.PAGE_SIZE
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
    known_slugs(slug)
    page = page_number(request)
    return served_page_response(
        request, ("detail", slug, page), partial(fresh_detail, request, slug, page)
    )


def fresh_detail(request, slug, page):
    newsletter = state.newsletter_by_slug(slug)
    if newsletter is None:
        raise Http404("No such newsletter.")
    page_state, total = state.newsletter_state(newsletter, page)
    if not newsletter.archive_public:
        total = 0  # a private archive: the landing page only offers the signup
    pages = max((total + state.PAGE_SIZE - 1) // state.PAGE_SIZE, 1)
    if page > pages:
        raise Http404("No such page.")
    return built_page(
        request,
        kind="detail",
        template="newsletter/detail.html",
        context=lambda: detail_context(newsletter, page, pages),
        language=newsletter.language,
        page_state=page_state,
    )


def detail_context(newsletter, page, pages):
    issues = []
    if newsletter.archive_public:
        issues = issue_summaries(newsletter, page)
    path = newsletter.get_absolute_url()
    return {
        "newsletter": newsletter,
        "issues": issues,
        "page": page,
        "pages": pages,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < pages else None,
        "canonical_url": absolute_url(path + (f"?page={page}" if page > 1 else "")),
    }


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
    known_slugs(slug, issue_slug)
    return served_page_response(
        request, ("issue", slug, issue_slug), partial(fresh_issue, request, slug, issue_slug)
    )


def fresh_issue(request, slug, issue_slug):
    found = state.archive_issue(slug, issue_slug)
    if found is None:
        raise Http404("No such issue in the archive.")
    return built_page(
        request,
        kind="issue",
        template="newsletter/issue.html",
        context=lambda: issue_context(found),
        language=found.newsletter.language,
        page_state=state.issue_state(found),
    )


def issue_context(found):
    parts = rendered_issue_page(found)
    canonical_url = absolute_url(found.get_absolute_url())
    return {
        "newsletter": found.newsletter,
        "issue": found,
        "subject": parts["subject"],
        "description": parts["description"],
        "body": parts["body"],
        "canonical_url": canonical_url,
        "share_links": share_links(canonical_url, parts["subject"]),
    }


@require_GET
def robots_txt(request):
    private = ("/admin/", "/u/", "/confirm/", "/preferences/", "/embed/")
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in private)]
    lines.append(f"Sitemap: {absolute_reverse('newsletter:sitemap')}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
