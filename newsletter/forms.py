"""Forms of the authoring admin and the public archive."""

from types import SimpleNamespace

from django import forms
from django.utils.translation import gettext_lazy as _

from newsletter import authoring
from newsletter.authoring import DRAFT_FIELDS
from newsletter.models import Issue, Newsletter, authored_text_errors
from newsletter.rendering.placeholders import HELP_TEXT as PLACEHOLDER_HELP
from subscribers.validation import validate_single_line

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
PREVIEW_TEXTS = ("subject", "preview_text", "body_markdown")


class MarkdownEditor(forms.Textarea):
    """A plain textarea that static/js/editor.js turns into the comfortable editor."""

    def __init__(self, attrs=None):
        super().__init__({"class": "rb-editor", "rows": 28, "spellcheck": "true", **(attrs or {})})


class SlugFromSubjectMixin:
    """A draft's slug is made from its subject (placeholders left out) and follows it
    until the author types one of their own or the issue is published."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _(
                "Leave it as it is and it follows the subject until the issue is sent."
            )

    def clean(self):
        cleaned = super().clean()
        newsletter = cleaned.get("newsletter") or getattr(self.instance, "newsletter", None)
        if newsletter and "subject" in cleaned and not self.has_error("slug"):
            cleaned["slug"] = authoring.slug_to_store(
                issue=self.instance if self.instance.pk else None,
                subject=cleaned["subject"],
                slug=cleaned.get("slug") or "",
                newsletter=newsletter,
            )
        return cleaned


class IssueAdminForm(SlugFromSubjectMixin, forms.ModelForm):
    class Meta:
        model = Issue
        fields = (
            "newsletter", "subject", "preview_text", "slug", "body_markdown",
            "show_in_archive",
        )  # fmt: skip
        widgets = {"body_markdown": MarkdownEditor()}
        help_texts = {"body_markdown": PLACEHOLDER_HELP}


class DraftForm(SlugFromSubjectMixin, forms.ModelForm):
    """The authoring fields only: what autosave and the preview read from the editor."""

    class Meta:
        model = Issue
        fields = DRAFT_FIELDS

    def _post_clean(self):
        super()._post_clean()
        # The slug is unique per newsletter, which the form itself does not show.
        if self.instance.newsletter_id and not self.has_error("slug"):
            try:
                self.instance.validate_constraints()
            except forms.ValidationError as error:
                self.add_error(None, error)


class PreviewForm(forms.Form):
    """What the live preview reads from the editor; a preview needs no slug yet."""

    newsletter = forms.ModelChoiceField(queryset=Newsletter.objects.all())
    # The same one-line rule as the model's fields, so the preview shows what save refuses.
    subject = forms.CharField(max_length=200, required=False, validators=[validate_single_line])
    preview_text = forms.CharField(
        max_length=200, required=False, validators=[validate_single_line]
    )
    slug = forms.SlugField(max_length=200, required=False)
    body_markdown = forms.CharField(required=False, strip=False)
    # A reader's address to personalise for; empty for sample values.
    preview_reader = forms.CharField(max_length=254, required=False)

    def clean(self):
        cleaned = super().clean()
        # The model's own check of authored text, so the preview shows what save refuses.
        texts = SimpleNamespace(**{name: cleaned.get(name, "") for name in PREVIEW_TEXTS})
        errors = authored_text_errors(texts, ("subject", "preview_text"), body="body_markdown")
        for name, error in errors.items():
            self.add_error(name, error)
        return cleaned

    def issue(self, instance=None):
        """An unsaved Issue holding the form's content, for rendering only."""
        data = self.cleaned_data
        return Issue(
            pk=instance.pk if instance else None,
            newsletter=data["newsletter"],
            subject=data["subject"],
            preview_text=data["preview_text"],
            slug=data["slug"] or (instance.slug if instance else "") or "preview",
            body_markdown=data["body_markdown"],
            show_in_archive=instance.show_in_archive if instance else True,
        )


class UploadForm(forms.Form):
    file = forms.ImageField(label=_("Image"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("Images may be at most 10 MB."))
        if upload.image.format not in UPLOAD_FORMATS:
            raise forms.ValidationError(_("Upload a JPEG, PNG, GIF or WebP image."))
        return upload
