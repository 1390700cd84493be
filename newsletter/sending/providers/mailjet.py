"""What Rundbrief knows about Mailjet beyond anymail: its batch answers carry each
message's own reason, in request order."""

from newsletter.sending.outcomes import PERMANENT, TRANSIENT, Outcome, bounded


def mailjet_errors(message):
    """{address: Outcome} for the messages of a batch Mailjet did not take."""
    try:
        answers = message.anymail_status.esp_response.json()["Messages"]
    except (AttributeError, KeyError, TypeError, ValueError):
        return {}
    addresses = list(message.merge_data)
    found = {}
    for address, answer in zip(addresses, answers, strict=False):
        if not isinstance(answer, dict) or answer.get("Status") == "success":
            continue
        errors = answer.get("Errors") or [{}]
        code = errors[0].get("StatusCode") or 400
        text = bounded(f"mailjet: {code} {errors[0].get('ErrorMessage', '')}".strip())
        status = TRANSIENT if code == 429 or code >= 500 else PERMANENT
        found[address] = Outcome(status, error=text)
    return found
