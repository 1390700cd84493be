"""A fake Postmark API on loopback: anymail talks to it over real HTTP.

Implements the shapes of POST /email, /email/batch and /email/batchWithTemplates
(https://postmarkapp.com/developer/api/email-api and .../templates-api), with stored
templates rendered Mustachio-style ({{x}} escaped, {{{x}}} raw). Point anymail at it with
ANYMAIL = {"POSTMARK_SERVER_TOKEN": …, "POSTMARK_API_URL": fake.url}.

Controls for tests: `fail_next` (HTTP statuses for the next calls, e.g. [503]),
`recipient_errors` (address -> (ErrorCode, Message)), `delay` (seconds per call).
"""

import html
import json
import re
import time
import uuid
from email.utils import parseaddr

from tests.fakes.loopback import LoopbackJSONAPI

PASSTHROUGH = {
    "Subject": "{{subject}}",
    "HtmlBody": "{{{html_body}}}",
    "TextBody": "{{{text_body}}}",
}
TOKEN = "fake-postmark-token"


def render(template, model):
    text = re.sub(r"\{\{\{\s*(\w+)\s*\}\}\}", lambda m: str(model.get(m[1], "")), template)
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: html.escape(str(model.get(m[1], ""))), text)


class FakePostmark(LoopbackJSONAPI):
    def __init__(self, templates=None):
        self.templates = {"rundbrief-passthrough": PASSTHROUGH, **(templates or {})}
        self.calls = []  # (path, number of messages)
        self.delivered = []  # every accepted message, templates rendered
        self.fail_next = []
        self.recipient_errors = {}
        self.delay = 0.0
        super().__init__()

    def to(self, address):
        return [m for m in self.delivered if parseaddr(m["To"])[1] == address]

    def answer(self, path, headers, body):
        """(status, json) for one API call."""
        if headers.get("X-Postmark-Server-Token") != TOKEN:
            return 401, {"ErrorCode": 10, "Message": "Bad token"}
        body = json.loads(body)
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0), {"ErrorCode": 500, "Message": "Fake outage"}
        if self.delay:
            time.sleep(self.delay)
        if path == "/email":
            messages = [body]
        elif path == "/email/batch":
            messages = body
        elif path == "/email/batchWithTemplates":
            messages = body["Messages"]
        else:
            return 404, {"ErrorCode": 404, "Message": "Unknown endpoint"}
        with self.lock:
            self.calls.append((path, len(messages)))
            results = [self.accept(message) for message in messages]
        return 200, results[0] if path == "/email" else results

    def accept(self, message):
        address = parseaddr(message["To"])[1]
        if address in self.recipient_errors:
            code, text = self.recipient_errors[address]
            return {"ErrorCode": code, "Message": text}
        if "TemplateAlias" in message or "TemplateId" in message:
            template = self.templates[message.get("TemplateAlias") or message["TemplateId"]]
            model = message.get("TemplateModel", {})
            message = {**message, **{k: render(v, model) for k, v in template.items()}}
        message_id = str(uuid.uuid4())
        self.delivered.append({**message, "MessageID": message_id})
        return {"ErrorCode": 0, "Message": "OK", "MessageID": message_id, "To": address}
