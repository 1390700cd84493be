"""Admin for newsletters and issues: the Markdown editor with a live preview of the real
mail, image upload, autosave and duplication. Sending lives in admin_sending.py."""

import secrets

from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from config.site import absolute_url
from newsletter import authoring
from newsletter.admin import preview_readers
from newsletter.admin.sending import SendingAdminMixin
from newsletter.admin.stats import NewsletterStatsMixin
from newsletter.forms import DraftForm, IssueAdminForm, PreviewForm, UploadForm
from newsletter.models import Issue, Newsletter, Upload
from newsletter.rendering import render_issue
from subscribers.embed import embed_snippet

PREVIEW_SECONDS = 600
# The preview frame shows author HTML: no script at all, inline CSS only (it is a mail).
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; "
    "frame-ancestors 'self'; sandbox"
)


@admin.register(Newsletter)
class NewsletterAdmin(NewsletterStatsMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "language", "archive_public", "from_email")
    list_filter = ("language", "archive_public")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("consent_version", "created_at", "embed_code")

    class Media:
        css = {"all": ("css/admin-newsletter.css",)}

    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "language", "archive_public")}),
        (_("Sender"), {"fields": ("from_name", "from_email", "reply_to", "footer")}),
        (_("Theme"), {"fields": ("accent_colour", "logo")}),
        (_("Consent"), {"fields": ("consent_text", "consent_version")}),
        (_("Welcome mail"), {"fields": ("welcome_enabled", "welcome_subject", "welcome_body")}),
        (_("Signup form for other websites"), {"fields": ("embed_code",)}),
    )

    @admin.display(description=_("HTML to paste"))
    def embed_code(self, obj):
        if not obj or not obj.pk:
            return _("Save the newsletter first.")
        return format_html('<pre class="rb-embed-code"><code>{}</code></pre>', embed_snippet(obj))


@admin.register(Issue)
class IssueAdmin(SendingAdminMixin, admin.ModelAdmin):
    form = IssueAdminForm
    list_display = ("subject", "newsletter", "status", "sending_scheduled_at", "sent_at")
    list_filter = ("newsletter", "status")
    search_fields = ("subject", "slug")
    date_hierarchy = "created_at"
    actions = (*(getattr(SendingAdminMixin, "actions", None) or ()), "duplicate_as_draft")

    class Media:
        css = {"all": ("css/editor.css",)}
        js = ("js/editor.js",)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        own = [
            path("preview/", wrap(self.preview_view), name="newsletter_issue_preview"),
            path(
                "preview/<str:token>/",
                wrap(self.preview_frame_view),
                name="newsletter_issue_preview_frame",
            ),
            path("upload/", wrap(self.upload_view), name="newsletter_issue_upload"),
            path(
                "<int:object_id>/autosave/",
                wrap(self.autosave_view),
                name="newsletter_issue_autosave",
            ),
        ]
        return own + super().get_urls()

    # -- actions ------------------------------------------------------------------------
    @admin.action(description=_("Duplicate as a new draft"), permissions=["add"])
    def duplicate_as_draft(self, request, queryset):
        copies = [authoring.duplicate_issue(issue=issue) for issue in queryset]
        self.message_user(
            request,
            ngettext(
                "Created %(count)d draft copy.", "Created %(count)d draft copies.", len(copies)
            )
            % {"count": len(copies)},
            messages.SUCCESS,
        )

    # -- preview ------------------------------------------------------------------------
    @staticmethod
    def preview_reader(form, issue):
        """The chosen reader or sample values; the links lead nowhere harmful."""
        landing = absolute_url(issue.newsletter.get_absolute_url())
        return preview_readers.preview_reader(
            newsletter=issue.newsletter,
            choice=form.cleaned_data["preview_reader"],
            urls={"unsubscribe_url": landing, "preferences_url": landing},
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        newsletter = obj.newsletter if obj else None
        context["preview_readers"] = preview_readers.reader_choices(newsletter) if obj else []
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def preview_cache_key(token):
        return f"newsletter:issue-preview:{token}"

    def preview_view(self, request):
        """POST the editor's form → JSON with the text part and a URL of the HTML part."""
        if request.method != "POST":
            return JsonResponse({"error": _("Use POST.")}, status=405)
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        form = PreviewForm(request.POST)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        instance = self.editable_instance(request)
        issue = form.issue(instance)
        reader = self.preview_reader(form, issue)
        subject, mail_html, text = render_issue(issue).personalise(reader.recipient)
        texts = (issue.subject, issue.preview_text, issue.body_markdown)
        warnings = reader.warnings + preview_readers.unknown_custom_fields(
            *texts, newsletter=issue.newsletter
        )
        token = secrets.token_urlsafe(16)
        cache.set(
            self.preview_cache_key(token),
            {"html": mail_html, "user": request.user.pk},
            PREVIEW_SECONDS,
        )
        frame_url = reverse("admin:newsletter_issue_preview_frame", kwargs={"token": token})
        return JsonResponse(
            {
                "subject": subject,
                "text": text,
                "html_url": frame_url,
                "reader": reader.email,
                "warnings": warnings,
            }
        )

    def editable_instance(self, request):
        object_id = request.POST.get("object_id", "")
        if not object_id.isdigit():
            return None
        return Issue.objects.filter(pk=object_id).first()

    def preview_frame_view(self, request, token):
        return preview_frame(request, self.preview_cache_key(token))

    # -- autosave -----------------------------------------------------------------------
    def autosave_view(self, request, object_id):
        """POST of the change form: keep the draft's authoring fields, answer in JSON."""
        if request.method != "POST":
            return JsonResponse({"error": _("Use POST.")}, status=405)
        issue = get_object_or_404(Issue, pk=object_id)
        if not self.has_change_permission(request, issue):
            raise PermissionDenied
        if not issue.is_editable:
            message = _("This issue is no longer a draft; autosave is off.")
            return JsonResponse({"error": message}, status=409)
        form = DraftForm(request.POST, instance=issue)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        authoring.save_draft(issue=issue, data=form.cleaned_data)
        saved_at = timezone.localtime(issue.updated_at)
        return JsonResponse(
            {"saved_at": saved_at.isoformat(), "slug": issue.slug,
             "message": _("Draft saved at %(time)s.")
             % {"time": saved_at.strftime("%H:%M:%S")}}
        )  # fmt: skip

    # -- upload -------------------------------------------------------------------------
    def upload_view(self, request):
        """POST an image → stored in media storage; JSON with its URL and Markdown."""
        if request.method != "POST":
            return JsonResponse({"error": _("Use POST.")}, status=405)
        if not self.has_change_permission(request) and not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        upload = authoring.store_upload(file=form.cleaned_data["file"], user=request.user)
        url = absolute_url(upload.file.url)
        alt = _("Image")
        return JsonResponse({"url": url, "markdown": f"![{alt}]({url})"}, status=201)


@require_GET
@xframe_options_sameorigin
def preview_frame(request, key):
    """The rendered mail for the preview iframe, only for the author who asked for it."""
    stored = cache.get(key)
    if not stored or stored["user"] != request.user.pk:
        raise Http404
    response = HttpResponse(stored["html"])
    response["Content-Security-Policy"] = PREVIEW_CSP
    response["Cache-Control"] = "private, no-store"
    return response


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("file", "uploaded_by", "created_at")
    readonly_fields = ("uploaded_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)
