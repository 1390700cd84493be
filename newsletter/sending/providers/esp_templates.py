"""One stored template per issue at Postmark, so a batch call carries each reader's few
merge values instead of their whole rendered mail (docs/sending.md, "Stored template per
issue").

The template holds the issue's merge form (subject, HTML and text with `{{{rbN}}}` where a
reader's value goes). Its alias is derived from the issue and a hash of that content, so a
changed issue gets a new template, every worker process computes the same alias without
asking anyone, and two processes that create it at once create the same thing.
"""

import hashlib
import logging
import re
import threading
import time

import requests
from anymail.utils import get_anymail_setting

logger = logging.getLogger(__name__)

ALIAS_PREFIX = "rundbrief-issue-"
ALIAS_RE = re.compile(rf"^{ALIAS_PREFIX}(\d+)-[0-9a-f]+$")
TEMPLATE_NOT_FOUND = 1101  # Postmark's ErrorCode when a send names an unknown template
TIMEOUT = (5, 30)
REFUSAL_SECONDS = 600  # after this a refused template is tried again (a limit may be freed)


class TemplateUnavailable(Exception):
    """The provider could not store the template now (outage, 429, network): retry."""


class TemplateRefused(Exception):
    """The provider will not store this template (limit reached, content, credentials)."""


def alias_for(issue, form):
    content = "\0".join((form.subject, form.html, form.text)).encode()
    digest = hashlib.sha256(content).hexdigest()[:16]
    return f"{ALIAS_PREFIX}{issue.pk}-{digest}"


_known = set()  # aliases this process has seen stored
_refused = {}  # alias -> (reason, when); meanwhile such an issue goes out another way
_known_lock = threading.Lock()


def ensure_template(issue, alias, form):
    """Store the issue's template at Postmark unless this process knows it is there."""
    with _known_lock:
        if alias in _known:
            return
        if is_refused(alias, locked=True):
            raise TemplateRefused(_refused[alias][0])
    api = PostmarkTemplates()
    try:
        created = api.create(alias, form, name=f"Rundbrief: issue {issue.pk}")
    except TemplateRefused as error:
        with _known_lock:
            _refused[alias] = (str(error), time.monotonic())
        raise
    with _known_lock:
        _known.add(alias)
    if created:
        api.delete_finished(keep=alias)


def is_refused(alias, locked=False):
    if not locked:
        with _known_lock:
            return is_refused(alias, locked=True)
    refused = _refused.get(alias)
    return refused is not None and time.monotonic() - refused[1] < REFUSAL_SECONDS


def forget_all():
    """Forget what this process knows about stored templates (tests, new credentials)."""
    with _known_lock:
        _known.clear()
        _refused.clear()


def forget_template(alias):
    """The provider says the template is gone: the next batch stores it again."""
    with _known_lock:
        _known.discard(alias)


class PostmarkTemplates:
    """Postmark's Templates API with the server token anymail sends with."""

    session = requests.Session()

    def __init__(self):
        self.token = get_anymail_setting("server_token", esp_name="Postmark", allow_bare=True)
        url = get_anymail_setting(
            "api_url", esp_name="Postmark", default="https://api.postmarkapp.com/"
        )
        self.url = url if url.endswith("/") else url + "/"

    def call(self, method, path, body=None, params=None):
        headers = {"Accept": "application/json", "X-Postmark-Server-Token": self.token}
        try:
            response = self.session.request(
                method, self.url + path, json=body, params=params, headers=headers,
                timeout=TIMEOUT,
            )  # fmt: skip
        except requests.RequestException as error:
            raise TemplateUnavailable(f"postmark templates: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise TemplateUnavailable(f"postmark templates: {response.status_code}")
        return response

    def create(self, alias, form, *, name):
        """Store the template; True if this call created it, False if it was there."""
        body = {
            "Name": name,
            "Alias": alias,
            "TemplateType": "Standard",
            "Subject": form.subject,
            "HtmlBody": form.html,
            "TextBody": form.text,
        }
        response = self.call("POST", "templates", body)
        if response.ok:
            return True
        # Refused: another worker may have stored the same alias a moment ago.
        existing = self.call("GET", f"templates/{alias}")
        if existing.ok:
            stored = existing.json()
            if (stored.get("Subject"), stored.get("HtmlBody"), stored.get("TextBody")) != (
                form.subject, form.html, form.text,
            ):  # fmt: skip
                self.update(alias, body)  # edited by hand at Postmark: put ours back
            return False
        raise refusal(response)

    def update(self, alias, body):
        response = self.call("PUT", f"templates/{alias}", body)
        if not response.ok:
            raise refusal(response)

    def delete_finished(self, *, keep):
        """Delete Rundbrief's templates of issues that are sent or cancelled (Postmark allows
        about 100 templates per server). Best effort: a leftover is harmless, and a send
        that finds its template gone stores it again (batching.call_provider)."""
        from newsletter.models import Issue

        try:
            listed = self.call(
                "GET", "templates", params={"Count": 500, "Offset": 0, "TemplateType": "Standard"}
            )
            templates = listed.json().get("Templates", []) if listed.ok else []
            ours = {
                t["Alias"]: int(match[1])
                for t in templates
                if (match := ALIAS_RE.match(t.get("Alias") or "")) and t["Alias"] != keep
            }
            unfinished = set(
                Issue.objects.filter(pk__in=set(ours.values()))
                .exclude(status__in=Issue.FINISHED)
                .values_list("pk", flat=True)
            )
            for alias, issue_id in ours.items():
                if issue_id not in unfinished:
                    self.call("DELETE", f"templates/{alias}")
        except (TemplateUnavailable, ValueError, KeyError, TypeError) as error:
            logger.warning("could not delete finished issues' templates: %s", error)


def refusal(response):
    return TemplateRefused(f"postmark templates: {response.status_code} {response.text}"[:500])
