"""The public archive: site index, newsletter landing pages and issue pages."""

from django.shortcuts import get_object_or_404, render

from newsletter.models import Issue, Newsletter
from newsletter.rendering import render_web


def index(request):
    newsletters = Newsletter.objects.public()
    return render(request, "newsletter/index.html", {"newsletters": newsletters})


def detail(request, slug):
    newsletter = get_object_or_404(Newsletter.objects.public(), slug=slug)
    issues = newsletter.issues.in_archive()
    return render(request, "newsletter/detail.html", {"newsletter": newsletter, "issues": issues})


def issue(request, slug, issue_slug):
    found = get_object_or_404(
        Issue.objects.in_archive().select_related("newsletter"),
        newsletter__slug=slug,
        newsletter__archive_public=True,
        slug=issue_slug,
    )
    context = {"newsletter": found.newsletter, "issue": found, "body": render_web(found)}
    return render(request, "newsletter/issue.html", context)
