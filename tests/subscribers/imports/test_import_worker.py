"""A CSV import through the admin, run by a real worker process, watched through the JSON."""

import csv
import io
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from subscribers.models import Event, ImportJob, Subscription, Suppression
from subscribers.suppression import email_hash
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

URL = "/admin/subscribers/subscription/import/"
ROWS = 3000


def generated_csv():
    """ROWS rows with German headers: every 100th address is broken, one is suppressed,
    and the last 10 repeat earlier addresses."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Vorname", "Nachname", "E-Mail", "Stadt"])
    for i in range(ROWS - 10):
        email = f"broken-{i}" if i % 100 == 0 else f"reader{i}@example.org"
        writer.writerow([f"Vor{i}", f"Nach{i}", email, "Köln"])
    for i in range(11, 21):
        writer.writerow(["Again", "", f"READER{i}@example.org", ""])
    return out.getvalue().encode()


def upload_and_map(admin_client, newsletter, content, **choices):
    response = admin_client.post(URL, {"file": SimpleUploadedFile("leute.csv", content)})
    assert response.status_code == 302, response.context_data["form"].errors
    columns = admin_client.get(response["Location"])
    data = {key: value for key, value in columns.context_data["form"].initial.items() if value}
    data.update(newsletter=newsletter.pk, upload=unquote(response["Location"].split("=", 1)[1]))
    started = admin_client.post(response["Location"], {**data, **choices})
    assert started.status_code == 302, started.context_data["form"].errors
    return started["Location"]


def wait_until_finished(admin_client, progress_url, timeout=120):
    seen = []

    def finished():
        state = admin_client.get(progress_url + "progress.json").json()
        seen.append(state["processed"])
        return state["finished"] and state

    return wait_for(finished, timeout=timeout, interval=0.2, message="the import"), seen


def test_the_worker_imports_an_uploaded_file_and_the_progress_reaches_done(
    start_worker, admin_client, newsletter
):
    Suppression.objects.create(email_hash=email_hash("reader7@example.org"), reason="bounced")
    # Only the default queue: the import must not depend on the priority workers.
    start_worker(queues="default")
    progress_url = upload_and_map(
        admin_client, newsletter, generated_csv(), custom_columns=["Stadt"]
    )

    state, seen = wait_until_finished(admin_client, progress_url)
    assert state["status"] == "done", state["error"]
    broken = (ROWS - 10 + 99) // 100  # rows 0, 100, …, 2900
    assert state["total"] == state["processed"] == ROWS
    assert state["rejected"] == broken
    assert state["skipped_suppressed"] == 1
    assert state["unchanged"] == 10
    assert state["imported"] == ROWS - 10 - broken - 1
    assert seen == sorted(seen)  # progress only ever goes forward

    job = ImportJob.objects.get()
    assert job.started_at and job.finished_at and len(job.rejections) == broken
    subscription = Subscription.objects.select_related("subscriber").get(
        subscriber__email="reader42@example.org"
    )
    assert subscription.status == Subscription.Status.PENDING
    assert subscription.subscriber.name == "Vor42 Nach42"
    assert subscription.subscriber.custom_fields == {"Stadt": "Köln"}  # the column's own name
    assert Event.objects.filter(kind=Event.Kind.IMPORTED).count() == state["imported"]

    page = admin_client.get(progress_url).content.decode()
    assert f'value="{ROWS}"' in page and "broken-2900" in page
    rejects = b"".join(admin_client.get(progress_url + "rejects.csv").streaming_content)
    assert len(rejects.decode().splitlines()) == 1 + broken


def test_imported_pending_addresses_get_their_confirmation_mail_from_the_worker(
    start_worker, smtp_server, admin_client, newsletter
):
    start_worker(EMAIL_URL=smtp_server.url)  # default for the import, priority for the mail
    content = b"email\nnew1@example.org\nnew2@example.org\n"
    progress_url = upload_and_map(admin_client, newsletter, content, send_confirmations="on")
    state, _seen = wait_until_finished(admin_client, progress_url)
    assert (state["imported"], state["confirmations_queued"]) == (2, 2)
    for address in ("new1@example.org", "new2@example.org"):
        mail = smtp_server.wait_for_mail(address)[0].message
        assert mail["Subject"] == "Please confirm your subscription to Garden Notes"
