"""The import job service as the worker runs it: counts, rejects, resume, confirmations."""

import csv

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.celery import app
from subscribers.imports import jobs
from subscribers.imports.importing import ColumnMapping
from subscribers.imports.uploads import imports_dir, save_upload
from subscribers.models import Event, ImportJob, Subscriber, Subscription, Suppression
from subscribers.suppression import email_hash

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


def start(newsletter, content, declaration="", send=False, **mapping):
    upload = save_upload(SimpleUploadedFile("people.csv", content.encode(), "text/csv"))
    return jobs.start_import(
        upload=upload,
        newsletter=newsletter,
        mapping=ColumnMapping(**{"email": "E-Mail", **mapping}),
        opted_in_declaration=declaration,
        send_confirmations=send,
        user=None,
    )


def run(job):
    jobs.run_import(job_id=job.pk)
    job.refresh_from_db()
    return job


def rejects_rows(job):
    with jobs.rejects_path(job).open(newline="") as file:
        return list(csv.reader(file))


MIXED = (
    "E-Mail,Vorname,Nachname,Stadt\n"
    "ada@example.org,Ada,Lovelace,London\n"
    "=HYPERLINK(1),Evil,,\n"
    "gone@example.org,Gone,,Rome\n"
    "ADA@example.org,Ada,again,London\n"
    "kept@example.org,Kept,,Bonn\n"
    "extra@example.org,Extra,,Ulm,surplus\n"
    "grace@example.org,Grace,Hopper,NYC\n"
)


def test_a_job_imports_counts_and_reports_every_kind_of_row(newsletter, make_subscription):
    Suppression.objects.create(email_hash=email_hash("gone@example.org"), reason="complained")
    make_subscription("kept@example.org", status=Subscription.Status.UNSUBSCRIBED)
    job = start(newsletter, MIXED, name="Vorname", last_name="Nachname", custom={"city": "Stadt"})
    assert job.status == ImportJob.Status.QUEUED and job.total_rows == 7

    job = run(job)
    assert job.status == ImportJob.Status.DONE
    assert (job.processed, job.imported, job.unchanged) == (7, 2, 2)
    assert (job.skipped_suppressed, job.rejected) == (1, 2)
    assert job.started_at <= job.finished_at
    assert [(r["line"], r["value"]) for r in job.rejections] == [
        (3, "=HYPERLINK(1)"),
        (7, "extra@example.org"),
    ]
    ada = Subscriber.objects.get(email="ada@example.org")
    assert (ada.name, ada.custom_fields) == ("Ada Lovelace", {"city": "London"})
    assert Subscription.objects.get(subscriber=ada).status == Subscription.Status.PENDING
    kept = Subscription.objects.get(subscriber__email="kept@example.org")
    assert kept.status == Subscription.Status.UNSUBSCRIBED  # an import never resubscribes
    # The rejects file is safe to open in a spreadsheet; the upload itself is gone.
    header, first = rejects_rows(job)[:2]
    assert header == ["line", "value", "reason"]
    assert first[:2] == ["3", "'=HYPERLINK(1)"] and first[2]
    assert not (imports_dir() / job.upload_name).exists()


def test_a_second_job_with_the_same_file_changes_nothing(newsletter):
    content = "E-Mail\n" + "".join(f"p{i}@example.org\n" for i in range(30))
    run(start(newsletter, content, declaration="Paper list, 2024 fair"))
    snapshot = list(Subscription.objects.order_by("pk").values())
    events = Event.objects.count()
    again = run(start(newsletter, content, declaration="Paper list, 2024 fair"))
    assert (again.imported, again.unchanged) == (0, 30)
    assert list(Subscription.objects.order_by("pk").values()) == snapshot
    assert Event.objects.count() == events
    assert {s["consent_text"] for s in snapshot} == {"Paper list, 2024 fair"}
    assert {s["status"] for s in snapshot} == {Subscription.Status.CONFIRMED}


def test_only_the_first_thousand_rejects_are_kept_on_the_job_but_all_go_to_the_file(
    newsletter,
):
    content = "E-Mail\n" + "bad\n" * 1200 + "ok@example.org\n"
    job = run(start(newsletter, content))
    assert (job.rejected, len(job.rejections), job.imported) == (1200, 1000, 1)
    assert len(rejects_rows(job)) == 1 + 1200


def test_an_interrupted_job_resumes_after_its_last_committed_chunk(newsletter, monkeypatch):
    monkeypatch.setattr(jobs, "CHUNK_SIZE", 10)
    rows = [f"p{i}@example.org" if i % 7 else f"bad{i}" for i in range(45)]
    job = start(newsletter, "E-Mail\n" + "\n".join(rows) + "\n")
    real_save, calls = jobs._save_counts, []

    def dies_in_the_second_chunk(job, report):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        real_save(job, report)

    monkeypatch.setattr(jobs, "_save_counts", dies_in_the_second_chunk)
    job = run(job)
    assert job.status == ImportJob.Status.FAILED and "worker lost" in job.error
    assert job.imported == 10 and Subscription.objects.count() == 10  # chunk 2 rolled back

    monkeypatch.setattr(jobs, "_save_counts", real_save)
    assert jobs.resume_import(job=job)
    job = run(job)
    assert job.status == ImportJob.Status.DONE
    assert (job.processed, job.imported, job.rejected, job.unchanged) == (45, 38, 7, 0)
    assert Event.objects.filter(kind=Event.Kind.IMPORTED).count() == 38
    assert [row[0] for row in rejects_rows(job)[1:]] == [str(i + 2) for i in range(0, 45, 7)]


def test_confirmations_are_requested_for_new_pending_rows_through_the_throttle(
    newsletter, make_subscription, django_capture_on_commit_callbacks
):
    make_subscription("old@example.org")  # pending already: not mailed again by the import
    content = "E-Mail\nnew1@example.org\nnew2@example.org\nold@example.org\n"
    job = start(newsletter, content, send=True)
    with django_capture_on_commit_callbacks() as callbacks:
        job = run(job)
    assert job.confirmations_queued == 2
    sent = Event.objects.filter(kind=Event.Kind.CONFIRMATION_SENT)
    assert {e.subscriber.email for e in sent} == {"new1@example.org", "new2@example.org"}
    assert len(callbacks) == 2  # one send_confirmation task each, after the chunk commits


def test_a_declaration_never_sends_confirmations(newsletter):
    job = start(newsletter, "E-Mail\nnew@example.org\n", declaration="Fair", send=True)
    assert job.send_confirmations is False
    assert run(job).confirmations_queued == 0


def test_a_finished_job_is_not_run_again(newsletter):
    job = run(start(newsletter, "E-Mail\na@example.org\n"))
    assert jobs.run_import(job_id=job.pk) is None
    assert Subscription.objects.count() == 1


def test_a_job_whose_file_is_gone_fails_with_the_reason(newsletter):
    job = start(newsletter, "E-Mail\na@example.org\n")
    (imports_dir() / job.upload_name).unlink()
    job = run(job)
    assert job.status == ImportJob.Status.FAILED and "FileNotFoundError" in job.error
    assert not Subscriber.objects.exists()


def test_the_import_task_is_routed_to_the_default_queue_not_priority():
    def queue_of(task_name):
        return app.amqp.router.route({}, task_name)["queue"].name

    assert queue_of("subscribers.run_import") == "default"
    assert queue_of("subscribers.send_confirmation") == "priority"
