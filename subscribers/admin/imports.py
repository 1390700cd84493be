"""The admin's CSV import: upload, pick the columns, then watch the worker import it.

1. Upload: the file is checked and stored privately (subscribers.imports.uploads); a bad file
   gets a clear message and leaves nothing behind.
2. Columns: a picker with guesses from the header (English and German names), the
   newsletter, the optional opt-in declaration and whether to send confirmations.
3. Progress: the worker runs the ImportJob; the page shows a <progress> bar that a small
   script (static/js/subscribers-import.js) updates from a JSON endpoint.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from newsletter.models import Newsletter
from subscribers.field_keys import custom_field_key, placeholder_for
from subscribers.imports import jobs
from subscribers.imports.importing import ColumnMapping, guess_mapping
from subscribers.imports.uploads import (
    Upload,
    UploadRefused,
    guess_email_column,
    preview,
    save_upload,
)
from subscribers.models import ImportJob

PREVIEW_ROWS = 5
# Owners only (staff/roles.py): an import adds readers, and its files hold their addresses.
IMPORT_PERMISSION = "subscribers.import_subscriber"


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 text with a header row; separated by commas, semicolons or tabs. "
            "The next step lets you choose the columns."
        ),
    )


class ImportMappingForm(forms.Form):
    """Step two: which column is what, into which newsletter, and with what consent."""

    upload = forms.CharField(widget=forms.HiddenInput)
    newsletter = forms.ModelChoiceField(label=_("Newsletter"), queryset=Newsletter.objects.all())
    email_column = forms.ChoiceField(label=_("Email column"))
    name_column = forms.ChoiceField(label=_("Name column"), required=False)
    last_name_column = forms.ChoiceField(
        label=_("Last name column"),
        required=False,
        help_text=_("For files with first and last name apart: appended to the name."),
    )
    custom_columns = forms.MultipleChoiceField(
        label=_("Keep as custom fields"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Each becomes a custom field for personalisation, written as the placeholder "
            "shown beside it."
        ),
    )
    declaration = forms.CharField(
        label=_("These people already opted in: how and when?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Only if they really did, e.g. “Signed up on the paper list at the 2024 fair”. "
            "Stored as the consent evidence of every imported subscription. Leave it empty "
            "and the rows are imported as pending: they get no newsletter until they confirm."
        ),
    )
    send_confirmations = forms.BooleanField(
        label=_("Send confirmation mails to imported pending addresses"),
        required=False,
        help_text=_("Queued with the usual per-address limits; only for rows new to the list."),
    )

    def __init__(self, *args, header, **kwargs):
        super().__init__(*args, **kwargs)
        columns = [(column, column) for column in header if column.strip()]
        none = [("", _("— none —"))]
        self.fields["email_column"].choices = columns
        self.fields["name_column"].choices = none + columns
        self.fields["last_name_column"].choices = none + columns
        # Each column with the exact placeholder it becomes, so the author writes that.
        self.fields["custom_columns"].choices = [
            (column, f"{label} → {placeholder_for(custom_field_key(column))}")
            for column, label in columns
        ]

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email_column")
        used = [cleaned.get("name_column"), cleaned.get("last_name_column")]
        used += cleaned.get("custom_columns") or []
        if email and email in used:
            self.add_error("email_column", _("The email column cannot be used for anything else."))
        # Placeholders match keys whatever their case: "Stadt" and "stadt" would clash.
        keys = [custom_field_key(c).lower() for c in cleaned.get("custom_columns") or []]
        if len(set(keys)) != len(keys):
            self.add_error("custom_columns", _("Two of these columns give the same field name."))
        if cleaned.get("send_confirmations") and (cleaned.get("declaration") or "").strip():
            self.add_error(
                "send_confirmations",
                _("Rows with an opt-in declaration are imported as confirmed: no mail to send."),
            )
        return cleaned

    def mapping(self):
        data = self.cleaned_data
        return ColumnMapping(
            email=data["email_column"],
            name=data["name_column"],
            last_name=data["last_name_column"],
            custom={custom_field_key(column): column for column in data["custom_columns"]},
        )


class ImportViewsMixin:
    """Views of the import, mixed into SubscriptionAdmin (URLs under its changelist)."""

    def import_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_upload_view), name="subscribers_import"),
            path("import/columns/", view(self.import_map_view), name="subscribers_import_map"),
            path(
                "import/<int:job_id>/",
                view(self.import_progress_view),
                name="subscribers_import_progress",
            ),
            path(
                "import/<int:job_id>/progress.json",
                view(self.import_progress_json),
                name="subscribers_import_progress_json",
            ),
            path(
                "import/<int:job_id>/rejects.csv",
                view(self.import_rejects_view),
                name="subscribers_import_rejects",
            ),
            path(
                "import/<int:job_id>/resume/",
                view(require_POST(self.import_resume_view)),
                name="subscribers_import_resume",
            ),
        ]

    def has_import_permission(self, request):
        return request.user.has_perm(IMPORT_PERMISSION)

    def _check_import_permission(self, request):
        # Every step checks, whatever the method: a POST with a valid upload token too.
        if not self.has_import_permission(request):
            raise PermissionDenied

    def _import_context(self, request, title, **extra):
        self._check_import_permission(request)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta}
        return {**context, "title": title, **extra}

    def _job(self, request, job_id):
        self._check_import_permission(request)
        return get_object_or_404(ImportJob.objects.select_related("newsletter"), pk=job_id)

    def import_upload_view(self, request):
        context = self._import_context(request, _("Import subscribers from CSV"))
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                upload = save_upload(form.cleaned_data["file"])
            except UploadRefused as exc:
                form.add_error("file", str(exc))
            else:
                query = urlencode({"upload": upload.token()})
                return HttpResponseRedirect(f"{reverse('admin:subscribers_import_map')}?{query}")
        context.update(form=form, jobs=ImportJob.objects.select_related("newsletter")[:10])
        return TemplateResponse(request, "admin/subscribers/subscription/import.html", context)

    def import_map_view(self, request):
        self._check_import_permission(request)
        token = request.POST.get("upload") or request.GET.get("upload", "")
        upload = Upload.from_token(token)
        if upload is None:
            messages.error(request, _("That upload has expired or is gone; upload the file again."))
            return HttpResponseRedirect(reverse("admin:subscribers_import"))
        header, sample = preview(upload)
        form = ImportMappingForm(
            request.POST or None, header=header, initial=_guesses(token, header, sample)
        )
        if request.method == "POST" and form.is_valid():
            job = jobs.start_import(
                upload=upload,
                newsletter=form.cleaned_data["newsletter"],
                mapping=form.mapping(),
                opted_in_declaration=form.cleaned_data["declaration"],
                send_confirmations=form.cleaned_data["send_confirmations"],
                user=request.user,
            )
            LogEntry.objects.log_actions(
                request.user.pk, [job], ADDITION, gettext("Started import"), single_object=True
            )
            return HttpResponseRedirect(_progress_url(job))
        context = self._import_context(
            request,
            _("Choose the columns"),
            form=form,
            upload=upload,
            header=header,
            sample=sample[:PREVIEW_ROWS],
        )
        return TemplateResponse(request, "admin/subscribers/subscription/import_map.html", context)

    def import_progress_view(self, request, job_id):
        job = self._job(request, job_id)
        context = self._import_context(
            request, _("Import of %(file)s") % {"file": job.original_name}, job=job
        )
        context["progress"] = jobs.progress(job)
        return TemplateResponse(
            request, "admin/subscribers/subscription/import_progress.html", context
        )

    def import_progress_json(self, request, job_id):
        return JsonResponse(jobs.progress(self._job(request, job_id)))

    def import_rejects_view(self, request, job_id):
        job = self._job(request, job_id)
        path = jobs.rejects_path(job)
        # A running job may be in the middle of a chunk: the file is complete once done.
        if not (job.finished and job.rejected and path.exists()):
            raise Http404(_("This import has no rejected rows to download (yet)."))
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=f"import-{job.pk}-rejected.csv",
            content_type="text/csv; charset=utf-8",
        )

    def import_resume_view(self, request, job_id):
        job = self._job(request, job_id)
        if jobs.resume_import(job=job):
            messages.success(request, _("The import goes on from the last row it saved."))
        return HttpResponseRedirect(_progress_url(job))


def _guesses(token, header, sample):
    """Initial picks: columns by their English or German names, the email one by content."""
    guessed = guess_mapping(header)
    newsletters = Newsletter.objects.all()[:2]
    return {
        "upload": token,
        "email_column": guess_email_column(header, sample),
        "name_column": guessed.name,
        "last_name_column": guessed.last_name,
        # With one newsletter there is nothing to choose.
        "newsletter": newsletters[0].pk if len(newsletters) == 1 else None,
    }


def _progress_url(job):
    return reverse("admin:subscribers_import_progress", kwargs={"job_id": job.pk})


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Past and running imports; each links to its progress page."""

    list_display = (
        "original_name",
        "newsletter",
        "status",
        "imported",
        "rejected",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "newsletter")
    list_select_related = ("newsletter", "created_by")

    def has_add_permission(self, request):
        return False  # imports start from the upload page

    def has_change_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:subscribers_import_progress", args=[object_id]))

    def delete_model(self, request, obj):
        jobs.delete_files(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for job in queryset:
            jobs.delete_files(job)
        super().delete_queryset(request, queryset)
