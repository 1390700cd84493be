"""Fake SendGrid, Mailgun, Mailjet and Brevo send APIs on loopback; anymail talks to them
over real HTTP (point `ANYMAIL["<ESP>_API_URL"]` at `fake.url`).

Each fake takes the request shape its provider documents, refuses what the provider
refuses (too many recipients, an address in `refuse`), answers in the provider's format,
and *renders* every message the way the provider would: merge fields are filled from the
recipient's merge data, so `delivered` holds the mails as the readers would get them.

Controls for tests: `fail_next` (HTTP statuses for the next calls, e.g. [429, 503]),
`faults` (call number -> Fault: a status with headers such as Retry-After, a hang past
the client's timeout after which the call is accepted all the same, or a malformed JSON
answer to an accepted call),
`refuse` (addresses the provider calls invalid), `delay` (seconds each call takes before
the provider accepts it, so a test can kill a worker while its call is in flight),
`on_call` (a function called with the call's number as each call arrives, in the fake's
server thread: what the world does while the provider works).
Records: `calls` (recipients per accepted call), `arrivals` (call number, monotonic
time) of every call as it arrives, `delivered` (one dict per mail:
to, name, subject, html, text, headers, metadata, message_id, and `call`: the number of
the API call that carried it, counted from 1 over every call that reached the fake).

Provider documentation modelled:
- SendGrid v3 /mail/send: personalizations (≤ 1,000) with legacy `substitutions`,
  per-personalization `headers` and `custom_args`; 202 with an empty body.
- Mailgun /<domain>/messages: form fields, `recipient-variables` (≤ 1,000 recipients),
  `%recipient.KEY%` anywhere in subject, bodies and `h:` headers; `{"id", "message"}`.
- Mailjet v3.1 /send: Globals + Messages (≤ 50), per-message Variables and Headers,
  `{{var:KEY:"default"}}` with TemplateLanguage; per-message Status, 400 on any error.
- Brevo /smtp/email: messageVersions (≤ 1,000) with params and headers,
  `{{ params.KEY }}` auto-escaped unless inside `{% autoescape off %}`; 201 messageIds.
"""

import base64
import html
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import parse_qs

from requests.structures import CaseInsensitiveDict

from tests.fakes.loopback import LoopbackJSONAPI, RawBody


@dataclass(frozen=True)
class Fault:
    """How the fake misbehaves on one call.

    status: answer this HTTP status (with `headers`) and accept nothing.
    hang: take this many seconds, then accept the call (the client gave up meanwhile).
    malformed: accept the call, answer 200 with a body that is not JSON.
    """

    status: int = 0
    headers: dict = field(default_factory=dict)
    hang: float = 0.0
    malformed: bool = False

    @property
    def accepts(self):
        """Whether the mails of the call go out although the client sees an error."""
        return not self.status


class Refused(Exception):
    """The provider refuses the whole call: (status, answer)."""

    def __init__(self, status, answer):
        super().__init__(status)
        self.status, self.answer = status, answer


class FakeESP(LoopbackJSONAPI):
    """A threaded HTTP server on loopback; subclasses parse and render one provider."""

    name = ""
    max_recipients = 0
    outage_answer = {"message": "Fake outage"}

    def __init__(self):
        self.calls = []
        self.delivered = []
        self.fail_next = []
        self.refuse = set()
        self.delay = 0.0
        self.on_call = None
        self.call_count = 0
        self.faults = {}
        self.arrivals = []
        super().__init__()

    def to(self, address):
        return [mail for mail in self.delivered if mail["to"] == address]

    def answer(self, path, headers, body):
        with self.lock:
            self.call_count += 1
            call = self.call_count
            self.arrivals.append((call, time.monotonic()))
            if self.fail_next:
                return self.fail_next.pop(0), self.outage_answer
            fault = self.faults.get(call, Fault())
        if fault.status:
            return fault.status, self.outage_answer, fault.headers
        if self.on_call:
            self.on_call(call)
        if self.delay or fault.hang:
            # The call is in flight; the provider has the request.
            time.sleep(self.delay + fault.hang)
        status, answer = self.accepted(path, headers, body, call)
        if fault.malformed and status < 300:
            return 200, RawBody(b'{"id": "<cut off in the middle')
        return status, answer

    def accepted(self, path, headers, body, call):
        if not self.authorised(headers):
            return 401, {"message": "bad credentials"}
        try:
            mails = self.parse(path, headers, body)
            for mail in mails:
                mail["call"] = call
            if len(mails) > self.max_recipients:
                raise Refused(400, {"message": f"at most {self.max_recipients} recipients"})
            return self.accept(mails)
        except Refused as refused:
            return refused.status, refused.answer

    def deliver(self, mail):
        mail["headers"] = CaseInsensitiveDict(mail["headers"])  # as mail headers are
        mail["message_id"] = f"<{uuid.uuid4()}@fake.{self.name}>"
        with self.lock:
            self.delivered.append(mail)
        return mail["message_id"]


def basic_auth(headers):
    value = headers.get("Authorization", "")
    if not value.startswith("Basic "):
        return None
    return base64.b64decode(value[6:]).decode()


def fill(text, pattern, values):
    return re.sub(pattern, lambda m: str(values.get(m[1], m[0])), text or "")


class FakeSendGrid(FakeESP):
    name = "sendgrid"
    max_recipients = 1000
    outage_answer = {"errors": [{"message": "Fake outage"}]}
    API_KEY = "fake-sendgrid-key"

    def anymail_settings(self):
        return {"SENDGRID_API_KEY": self.API_KEY, "SENDGRID_API_URL": self.url}

    def authorised(self, headers):
        return headers.get("Authorization") == f"Bearer {self.API_KEY}"

    def parse(self, path, headers, body):
        if path != "/mail/send":
            raise Refused(404, {"errors": [{"message": "unknown endpoint"}]})
        data = json.loads(body)
        content = {part["type"]: part["value"] for part in data.get("content", [])}
        mails = []
        for n, personalization in enumerate(data["personalizations"]):
            (to,) = personalization["to"]
            if to["email"] in self.refuse:
                raise Refused(400, {"errors": [{
                    "message": "Does not contain a valid address.",
                    "field": f"personalizations.{n}.to.0.email",
                }]})  # fmt: skip
            tags = personalization.get("substitutions", {})
            substitute = re.compile("|".join(map(re.escape, tags)) or r"(?!)")

            def apply(text, tags=tags, substitute=substitute):
                return substitute.sub(lambda m: tags[m[0]], text or "")

            headers_out = {**data.get("headers", {}), **personalization.get("headers", {})}
            mails.append({
                "to": to["email"],
                "name": to.get("name", ""),
                "subject": apply(personalization.get("subject", data.get("subject"))),
                "html": apply(content.get("text/html")),
                "text": apply(content.get("text/plain")),
                "headers": {k: apply(v) for k, v in headers_out.items()},
                "metadata": {**data.get("custom_args", {}),
                             **personalization.get("custom_args", {})},
            })  # fmt: skip
        return mails

    def accept(self, mails):
        with self.lock:
            self.calls.append(len(mails))
        for mail in mails:
            self.deliver(mail)
            # SendGrid returns no ids; anymail makes one per personalization and sends it
            # as custom_args.anymail_id, which SendGrid's events carry back.
            mail["message_id"] = mail["metadata"].get("anymail_id", "")
        return 202, None


class FakeMailgun(FakeESP):
    name = "mailgun"
    max_recipients = 1000
    API_KEY = "fake-mailgun-key"

    def anymail_settings(self):
        return {"MAILGUN_API_KEY": self.API_KEY, "MAILGUN_API_URL": self.url}

    def authorised(self, headers):
        return basic_auth(headers) == f"api:{self.API_KEY}"

    def parse(self, path, headers, body):
        if not re.fullmatch(r"/[\w.-]+/messages", path):
            raise Refused(404, {"message": "Mailgun Magnificent API"})
        if not headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            raise Refused(400, {"message": "expected a form"})
        form = parse_qs(body.decode(), keep_blank_values=True)
        first = {key: values[0] for key, values in form.items()}
        variables = json.loads(first.get("recipient-variables", "{}"))
        mails = []
        for to in form["to"]:
            name, address = parseaddr(to)
            if address in self.refuse:
                raise Refused(400, {"message": "'to' parameter is not a valid address."})
            values = variables.get(address, {})

            def apply(text, values=values):
                return fill(text, r"%recipient\.([^%]+)%", values)

            mails.append({
                "to": address,
                "name": name,
                "subject": apply(first.get("subject")),
                "html": apply(first.get("html")),
                "text": apply(first.get("text")),
                "headers": {k[2:]: apply(v) for k, v in first.items() if k.startswith("h:")},
                "metadata": {k[2:]: apply(v) for k, v in first.items() if k.startswith("v:")},
            })  # fmt: skip
        return mails

    def accept(self, mails):
        batch_id = f"<{uuid.uuid4()}@fake.mailgun>"
        with self.lock:
            self.calls.append(len(mails))
        for mail in mails:
            self.deliver(mail)
            mail["message_id"] = batch_id  # Mailgun answers one id for the whole call
        return 200, {"id": batch_id, "message": "Queued. Thank you."}


class FakeMailjet(FakeESP):
    name = "mailjet"
    max_recipients = 50
    outage_answer = {"ErrorCode": "mj-0000", "ErrorMessage": "Fake outage", "StatusCode": 503}
    API_KEY, SECRET_KEY = "fake-mailjet-key", "fake-mailjet-secret"
    FIELD = re.compile(r'\{\{var:(\w+)(?::"([^"]*)")?\}\}')

    def anymail_settings(self):
        return {
            "MAILJET_API_KEY": self.API_KEY,
            "MAILJET_SECRET_KEY": self.SECRET_KEY,
            "MAILJET_API_URL": self.url,
        }

    def authorised(self, headers):
        return basic_auth(headers) == f"{self.API_KEY}:{self.SECRET_KEY}"

    def parse(self, path, headers, body):
        if path != "/send":
            raise Refused(404, {"ErrorMessage": "unknown endpoint"})
        data = json.loads(body)
        if len(data["Messages"]) > self.max_recipients:
            raise Refused(400, {"ErrorCode": "mj-0002", "StatusCode": 400,
                                "ErrorMessage": "too many messages"})  # fmt: skip
        return [self.message(data.get("Globals", {}), m) for m in data["Messages"]]

    def message(self, globals_, message):
        merged = {**globals_, **message}
        variables = {**globals_.get("Variables", {}), **message.get("Variables", {})}

        def apply(text):
            if not merged.get("TemplateLanguage"):
                return text
            return self.FIELD.sub(lambda m: variables.get(m[1], m[2] or ""), text or "")

        (to,) = message["To"]
        return {
            "to": to["Email"],
            "name": to.get("Name", ""),
            "subject": apply(merged.get("Subject")),
            "html": apply(merged.get("HTMLPart")),
            "text": apply(merged.get("TextPart")),
            "headers": {**globals_.get("Headers", {}), **message.get("Headers", {})},
            "metadata": json.loads(merged.get("EventPayload") or "{}"),
        }

    def accept(self, mails):
        answers, refused = [], False
        for mail in mails:
            if mail["to"] in self.refuse:
                refused = True
                answers.append({"Status": "error", "Errors": [{
                    "ErrorIdentifier": str(uuid.uuid4()), "ErrorCode": "mj-0013",
                    "StatusCode": 400, "ErrorRelatedTo": ["To[0].Email"],
                    "ErrorMessage": f'"{mail["to"]}" is an invalid email address.',
                }]})  # fmt: skip
                continue
            message_id = self.deliver(mail)
            number = abs(hash(message_id)) % 10**15
            mail["message_id"] = str(number)
            answers.append({"Status": "success", "To": [{
                "Email": mail["to"], "MessageUUID": str(uuid.uuid4()), "MessageID": number,
                "MessageHref": f"https://api.mailjet.com/v3/message/{number}",
            }]})  # fmt: skip
        with self.lock:
            self.calls.append(len(mails))
        return (400 if refused else 200), {"Messages": answers}


class FakeBrevo(FakeESP):
    name = "brevo"
    max_recipients = 1000
    outage_answer = {"code": "internal_error", "message": "Fake outage"}
    API_KEY = "fake-brevo-key"
    RAW = re.compile(
        r"\{%\s*autoescape off\s*%\}\{\{\s*params\.(\w+)\s*\}\}\{%\s*endautoescape\s*%\}"
    )
    ESCAPED = re.compile(r"\{\{\s*params\.(\w+)\s*\}\}")

    def anymail_settings(self):
        return {"BREVO_API_KEY": self.API_KEY, "BREVO_API_URL": self.url}

    def authorised(self, headers):
        return headers.get("api-key") == self.API_KEY

    def parse(self, path, headers, body):
        if path != "/smtp/email":
            raise Refused(404, {"code": "not_found", "message": "unknown endpoint"})
        data = json.loads(body)
        versions = data.get("messageVersions") or [{"to": data["to"]}]
        mails = []
        for version in versions:
            (to,) = version["to"]
            if to["email"] in self.refuse:
                raise Refused(400, {"code": "invalid_parameter",
                                    "message": "email is not valid in to"})  # fmt: skip
            params = {**data.get("params", {}), **version.get("params", {})}

            def apply(text, params=params):
                text = fill(text, self.RAW.pattern, params)
                return self.ESCAPED.sub(lambda m: html.escape(str(params.get(m[1], ""))), text)

            mails.append({
                "to": to["email"],
                "name": to.get("name", ""),
                "subject": apply(version.get("subject", data.get("subject"))),
                "html": apply(version.get("htmlContent", data.get("htmlContent"))),
                "text": apply(version.get("textContent", data.get("textContent"))),
                "headers": {**data.get("headers", {}), **version.get("headers", {})},
            })  # fmt: skip
            headers_out = mails[-1]["headers"]
            mails[-1]["metadata"] = json.loads(headers_out.pop("X-Mailin-custom", "{}"))
        return mails

    def accept(self, mails):
        with self.lock:
            self.calls.append(len(mails))
        ids = [self.deliver(mail) for mail in mails]
        return 201, {"messageIds": ids}


FAKES = {fake.name: fake for fake in (FakeSendGrid, FakeMailgun, FakeMailjet, FakeBrevo)}
