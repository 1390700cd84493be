"""The statistics page of a newsletter in the admin: readers gained and lost, signups and
their confirmation, why readers left, and how each send went. NewsletterAdmin mixes
this in; the page lives at /admin/newsletter/newsletter/<id>/statistics/.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from newsletter.stats import WEEKS, charts, newsletter_stats


class NewsletterStatsMixin:
    # Adds the "Statistics" button to the change page's object tools.
    change_form_template = "admin/newsletter/stats_change_form.html"

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/statistics/",
                self.admin_site.admin_view(self.statistics_view),
                name="newsletter_newsletter_statistics",
            )
        ]
        return own + super().get_urls()

    def get_list_display(self, request):
        return (*super().get_list_display(request), "statistics_link")

    @admin.display(description=gettext_lazy("Statistics"))
    def statistics_link(self, obj):
        url = reverse("admin:newsletter_newsletter_statistics", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Statistics"))

    def statistics_view(self, request, object_id):
        newsletter = self.get_object(request, unquote(object_id))
        if newsletter is None:
            raise Http404(_("No newsletter with this id."))
        if not self.has_view_or_change_permission(request, newsletter):
            raise PermissionDenied
        stats = newsletter_stats(newsletter)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": newsletter,
            "title": _("Statistics of %(newsletter)s") % {"newsletter": newsletter},
            "stats": stats,
            "weeks": WEEKS,
            "weekly_chart": charts.weekly_chart(stats.weeks),
            "reasons_chart": charts.bar_chart((r.label, r.count) for r in stats.reasons),
            "signup_chart": charts.bar_chart(signup_rows(stats)),
            "issue_rows": [(row, charts.delivery_segments(row)) for row in stats.issues],
            "spark_width": charts.SPARK_WIDTH,
            "fills": {"lost": charts.LOST_FILL, "neutral": charts.NEUTRAL_FILL},
        }
        return TemplateResponse(request, "admin/newsletter/stats.html", context)


def signup_rows(stats):
    pending = stats.signups - stats.signups_confirmed - stats.signups_expired
    return [
        (_("Signed up"), stats.signups),
        (_("Confirmed"), stats.signups_confirmed),
        (_("Still waiting"), max(pending, 0)),
        (_("Expired unconfirmed"), stats.signups_expired),
    ]
