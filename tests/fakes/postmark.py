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
import threading
import time
import uuid
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PASSTHROUGH = {
    "Subject": "{{subject}}",
    "HtmlBody": "{{{html_body}}}",
    "TextBody": "{{{text_body}}}",
}
TOKEN = "fake-postmark-token"


def render(template, model):
    text = re.sub(r"\{\{\{\s*(\w+)\s*\}\}\}", lambda m: str(model.get(m[1], "")), template)
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: html.escape(str(model.get(m[1], ""))), text)


class FakePostmark:
    def __init__(self, templates=None):
        self.templates = {"rundbrief-passthrough": PASSTHROUGH, **(templates or {})}
        self.calls = []  # (path, number of messages)
        self.delivered = []  # every accepted message, templates rendered
        self.fail_next = []
        self.recipient_errors = {}
        self.delay = 0.0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def to(self, address):
        return [m for m in self.delivered if parseaddr(m["To"])[1] == address]

    def answer(self, path, body):
        """(status, json) for one API call."""
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

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                if self.headers.get("X-Postmark-Server-Token") != TOKEN:
                    return self.reply(401, {"ErrorCode": 10, "Message": "Bad token"})
                body = json.loads(self.rfile.read(length))
                status, answer = fake.answer(self.path, body)
                self.reply(status, answer)

            def reply(self, status, answer):
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler
