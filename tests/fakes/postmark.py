"""A fake Postmark API on loopback: anymail talks to it over real HTTP.

Implements the shapes of POST /email, /email/batch and /email/batchWithTemplates
(https://postmarkapp.com/developer/api/email-api and .../templates-api), with stored
templates rendered Mustachio-style ({{x}} escaped, {{{x}}} raw), and the Templates API
that stores them: POST /templates, GET/PUT/DELETE /templates/{alias or id}, GET
/templates (list). A send naming an unknown template gets ErrorCode 1101 for that
message; a template with a stray `{{` or unbalanced braces is refused (1121), as are
templates past `max_templates` (1105) and a second template with an alias in use (1123).
Point anymail at it with ANYMAIL = {"POSTMARK_SERVER_TOKEN": …, "POSTMARK_API_URL": fake.url}.

Controls for tests: `fail_next` (HTTP statuses for the next send calls, e.g. [503]),
`faults` (send call number -> tests.fakes.esp.Fault: a status with headers such as
Retry-After, a hang, a malformed answer),
`fail_templates` (the same for Templates API calls), `recipient_errors` (address ->
(ErrorCode, Message)), `delay` (seconds per call), `on_call` (called with each send
call's number as it arrives). Records: `calls` (path, messages) per accepted send call,
`arrivals` (call number, monotonic time) of every send call,
`template_calls` (method, path) per Templates API call, `delivered` (each message as
rendered, with its `MessageID` and `call`: the number of the send call that carried it).
"""

import html
import json
import re
import time
import uuid
from email.utils import parseaddr

from tests.fakes.esp import FakeMailgun, Fault
from tests.fakes.loopback import LoopbackJSONAPI, RawBody

PASSTHROUGH = {
    "Subject": "{{subject}}",
    "HtmlBody": "{{{html_body}}}",
    "TextBody": "{{{text_body}}}",
}
TOKEN = "fake-postmark-token"
RAW = re.compile(r"\{\{\{\s*(\w+)\s*\}\}\}")
ESCAPED = re.compile(r"\{\{\s*(\w+)\s*\}\}")
TEMPLATE_FIELDS = ("Subject", "HtmlBody", "TextBody")


def render(template, model):
    text = RAW.sub(lambda m: str(model.get(m[1], "")), template or "")
    return ESCAPED.sub(lambda m: html.escape(str(model.get(m[1], ""))), text)


def valid_mustachio(template):
    """Only the variables this fake renders; any other `{{` or `}}` is a syntax error."""
    rest = ESCAPED.sub("", RAW.sub("", template or ""))
    return "{{" not in rest and "}}" not in rest


class FakePostmark(LoopbackJSONAPI):
    def __init__(self, templates=None):
        self.templates = {"rundbrief-passthrough": PASSTHROUGH, **(templates or {})}
        self.template_ids = {}  # TemplateId -> alias
        self.max_templates = 100
        self.calls = []  # (path, number of messages)
        self.template_calls = []  # (method, path)
        self.delivered = []  # every accepted message, templates rendered
        self.fail_next = []
        self.fail_templates = []
        self.on_call = None  # called with the number of each send call as it arrives
        self.call_count = 0
        self.accepting_call = 0
        self.recipient_errors = {}
        self.delay = 0.0
        self.faults = {}
        self.arrivals = []
        super().__init__()

    def to(self, address):
        return [m for m in self.delivered if parseaddr(m["To"])[1] == address]

    def answer(self, path, headers, body):
        """(status, json) for one API call."""
        if headers.get("X-Postmark-Server-Token") != TOKEN:
            return 401, {"ErrorCode": 10, "Message": "Bad token"}
        body = json.loads(body)
        if path == "/templates":
            return self.answer_method("POST", path, headers, json.dumps(body))
        with self.lock:
            self.call_count += 1
            call = self.call_count
            self.arrivals.append((call, time.monotonic()))
            if self.on_call:
                self.on_call(self.call_count)
            if self.fail_next:
                return self.fail_next.pop(0), {"ErrorCode": 500, "Message": "Fake outage"}
            fault = self.faults.get(call, Fault())
        if fault.status:
            return fault.status, {"ErrorCode": 500, "Message": "Fake outage"}, fault.headers
        if self.delay or fault.hang:
            time.sleep(self.delay + fault.hang)
        status, answer = self.take(path, body, call)
        if fault.malformed and status == 200:
            return 200, RawBody(b'[{"ErrorCode": 0, "Message": "OK", "MessageID": "cut off')
        return status, answer

    def take(self, path, body, call):
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
            self.accepting_call = call
            results = [self.accept(message) for message in messages]
        return 200, results[0] if path == "/email" else results

    def accept(self, message):
        address = parseaddr(message["To"])[1]
        if address in self.recipient_errors:
            code, text = self.recipient_errors[address]
            return {"ErrorCode": code, "Message": text}
        if "TemplateAlias" in message or "TemplateId" in message:
            name = message.get("TemplateAlias") or self.template_ids.get(message["TemplateId"])
            template = self.templates.get(name)
            if template is None:
                return {"ErrorCode": 1101, "Message": "The template was not found."}
            model = message.get("TemplateModel", {})
            message = {**message, **{k: render(v, model) for k, v in template.items()}}
        message_id = str(uuid.uuid4())
        self.delivered.append({**message, "MessageID": message_id, "call": self.accepting_call})
        return {"ErrorCode": 0, "Message": "OK", "MessageID": message_id, "To": address}

    # --- the Templates API ---------------------------------------------------------------
    def answer_method(self, method, path, headers, body):
        if headers.get("X-Postmark-Server-Token") != TOKEN:
            return 401, {"ErrorCode": 10, "Message": "Bad token"}
        path, _, query = path.partition("?")
        with self.lock:
            self.template_calls.append((method, path))
            if self.fail_templates:
                return self.fail_templates.pop(0), {"ErrorCode": 500, "Message": "Fake outage"}
            if path == "/templates" and method == "POST":
                return self.create_template(json.loads(body))
            if path == "/templates" and method == "GET":
                return 200, self.list_templates()
            name = path.removeprefix("/templates/")
            name = self.template_ids.get(int(name), name) if name.isdigit() else name
            if not path.startswith("/templates/") or name not in self.templates:
                return 422, {"ErrorCode": 1101, "Message": "The template was not found."}
            if method == "GET":
                return 200, {**self.templates[name], "Alias": name, "Active": True}
            if method == "PUT":
                return self.edit_template(name, json.loads(body))
            if method == "DELETE":
                del self.templates[name]
                return 200, {"ErrorCode": 0, "Message": f"Template {name} removed."}
        return 405, {"ErrorCode": 405, "Message": "Method not allowed"}

    def create_template(self, body):
        alias = body.get("Alias")
        if alias in self.templates:
            return 422, {"ErrorCode": 1123, "Message": "This alias is already in use."}
        if len(self.templates) >= self.max_templates:
            return 422, {"ErrorCode": 1105, "Message": "Template limit would be exceeded."}
        refused = self.invalid(body)
        if refused:
            return refused
        template_id = len(self.template_ids) + 1000
        name = alias or str(template_id)
        self.templates[name] = {field: body.get(field, "") for field in TEMPLATE_FIELDS}
        self.template_ids[template_id] = name
        return 200, {"TemplateId": template_id, "Name": body.get("Name"), "Alias": alias}

    def edit_template(self, name, body):
        refused = self.invalid(body)
        if refused:
            return refused
        self.templates[name].update({f: body[f] for f in TEMPLATE_FIELDS if f in body})
        return 200, {"Name": body.get("Name"), "Alias": name}

    def invalid(self, body):
        if not all(valid_mustachio(body.get(field)) for field in TEMPLATE_FIELDS):
            return 422, {"ErrorCode": 1121, "Message": "The template's syntax is invalid."}
        return None

    def list_templates(self):
        listed = [{"Alias": name, "Name": name, "Active": True} for name in self.templates]
        return {"TotalCount": len(listed), "Templates": listed}


def provider_env(fake):
    """The environment that points a worker at a fake provider: Postmark with the issue's
    stored template (sent by batchWithTemplates directly), or Mailgun through anymail."""
    if isinstance(fake, FakePostmark):
        return {
            "EMAIL_PROVIDER": "postmark",
            "ANYMAIL_POSTMARK_SERVER_TOKEN": TOKEN,
            "ANYMAIL_POSTMARK_API_URL": fake.url,
        }
    return {
        "EMAIL_PROVIDER": "mailgun",
        "ANYMAIL_MAILGUN_API_KEY": FakeMailgun.API_KEY,
        "ANYMAIL_MAILGUN_API_URL": fake.url,
    }
