"""A fake Amazon SES v2 bulk-send API on loopback; anymail's SES backend (boto3) talks to it
over real HTTP. Controls and records as for the fakes in tests/fakes/esp.py."""

import html
import json
import re
from email.utils import parseaddr

from tests.fakes.esp import FakeESP, Refused


class FakeAmazonSES(FakeESP):
    """SES v2 SendBulkEmail (POST /v2/email/outbound-bulk-emails) with stored Handlebars
    templates ({{x}} escaped, {{{x}}} raw) and per-entry ReplacementHeaders; ≤ 50 entries.
    boto3 signs the requests; the fake does not check signatures."""

    name = "amazon_ses"
    max_recipients = 50
    PASSTHROUGH = {
        "Subject": "{{subject}}",
        "Html": "{{{html_body}}}",
        "Text": "{{{text_body}}}",
    }

    def __init__(self):
        super().__init__()
        self.templates = {"rundbrief-passthrough": self.PASSTHROUGH}

    def anymail_settings(self):
        return {
            "AMAZON_SES_SESSION_PARAMS": {
                "aws_access_key_id": "fake-key",
                "aws_secret_access_key": "fake-secret",
                "region_name": "eu-central-1",
            },
            "AMAZON_SES_CLIENT_PARAMS": {
                "endpoint_url": self.url,
                "config": {"retries": {"max_attempts": 1}},  # the engine retries, not boto
            },
        }

    def authorised(self, headers):
        return headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 ")

    def parse(self, path, headers, body):
        if path != "/v2/email/outbound-bulk-emails":
            raise Refused(404, {"message": "unknown endpoint"})
        data = json.loads(body)
        name = data["DefaultContent"]["Template"]["TemplateName"]
        if name not in self.templates:
            raise Refused(404, {"message": f"Template {name} does not exist."})
        template = self.templates[name]
        mails = []
        for entry in data["BulkEmailEntries"]:
            (to,) = entry["Destination"]["ToAddresses"]
            name_, address = parseaddr(to)
            model = json.loads(entry["ReplacementEmailContent"]["ReplacementTemplate"][
                "ReplacementTemplateData"
            ])  # fmt: skip
            headers_out = {h["Name"]: h["Value"] for h in entry.get("ReplacementHeaders", [])}
            mails.append({
                "to": address,
                "name": name_,
                "subject": handlebars(template["Subject"], model),
                "html": handlebars(template["Html"], model),
                "text": handlebars(template["Text"], model),
                "headers": headers_out,
                "metadata": json.loads(headers_out.get("X-Metadata", "{}")),
            })  # fmt: skip
        return mails

    def accept(self, mails):
        results = []
        for mail in mails:
            if mail["to"] in self.refuse:
                results.append({"Status": "MESSAGE_REJECTED", "Error": "Rejected"})
                continue
            results.append({"Status": "SUCCESS", "MessageId": self.deliver(mail)})
        with self.lock:
            self.calls.append(len(mails))
        return 200, {"BulkEmailEntryResults": results}


def handlebars(template, model):
    text = re.sub(r"\{\{\{\s*(\w+)\s*\}\}\}", lambda m: str(model.get(m[1], "")), template)
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: html.escape(str(model.get(m[1], ""))), text)
