"""Services for background CSV imports: start a job, run it in the worker, report on it.

The worker streams the stored file through subscribers.imports.importing chunk by chunk. Each
chunk's rows and the job's counters commit in one transaction, so a worker that dies
mid-file resumes where the last chunk ended (the task is acked late) and the counts
stay true. Rejected rows all go to a CSV file next to the upload; the first
KEPT_REJECTIONS are also kept on the job for the progress page.
"""

import csv
import logging
from dataclasses import asdict

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from subscribers import services
from subscribers.export import safe_cell
from subscribers.imports.importing import (
    ColumnMapping,
    ImportRefused,
    ImportReport,
    Rejection,
    import_subscribers,
)
from subscribers.imports.uploads import imports_dir, open_upload
from subscribers.models import ImportJob, Subscription
from subscribers.queue import enqueue

logger = logging.getLogger(__name__)
REJECTS_HEADER = ["line", "value", "reason"]
CHUNK_SIZE = 1000  # rows per transaction and per progress update


def rejects_path(job):
    return imports_dir() / f"{job.upload_name.removesuffix('.csv')}-rejects.csv"


@transaction.atomic
def start_import(*, upload, newsletter, mapping, opted_in_declaration, send_confirmations, user):
    """Record an import job for a checked upload and queue it for the worker."""
    declaration = opted_in_declaration.strip()
    job = ImportJob.objects.create(
        newsletter=newsletter,
        created_by=user,
        upload_name=upload.name,
        original_name=upload.original_name,
        delimiter=upload.delimiter,
        total_rows=upload.total_rows,
        mapping=mapping.as_json(),
        opted_in_declaration=declaration,
        # Confirmations are for pending rows; declared opt-ins are confirmed already.
        send_confirmations=send_confirmations and not declaration,
    )
    enqueue("subscribers.run_import", job_id=job.pk)
    return job


def run_import(*, job_id):
    """Import a queued (or interrupted) job's file; returns the job, or None if not due.

    1. Claim the job (queued, or running when a dead worker's task comes back).
    2. Stream the rows, skipping those an earlier run committed; every chunk commits its
       subscriptions together with the job's counters.
    3. Mark the job done and delete the uploaded file; any error marks it failed.
    """
    due = ImportJob.objects.unfinished().filter(pk=job_id)
    claimed = due.update(
        status=ImportJob.Status.RUNNING, started_at=Coalesce("started_at", timezone.now())
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("newsletter").get(pk=job_id)
    try:
        report = _run(job)
    except Exception as exc:
        logger.exception("Import job %s failed", job.pk)
        _finish(job, ImportJob.Status.FAILED, error=_failure_text(exc))
        return job
    _save_counts(job, report)
    _finish(job, ImportJob.Status.DONE)
    (imports_dir() / job.upload_name).unlink(missing_ok=True)
    return job


def _failure_text(exc):
    if isinstance(exc, ImportRefused):
        return str(exc)
    # Staff read this; an OSError's text names the file and so the server's folders (the
    # log keeps the whole traceback).
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return f"{type(exc).__name__}: {detail}"[:2000]


def _run(job):
    report = _report_so_far(job)
    with open_upload(imports_dir() / job.upload_name) as lines, _rejects_file(job) as rejects:
        writer = csv.writer(rejects)

        def on_reject(rejection):
            # The values come from the uploaded file: keep a spreadsheet from running them.
            writer.writerow([rejection.line, safe_cell(rejection.value), rejection.reason])

        def on_chunk(report, new_subscriber_ids):
            rejects.flush()
            job.rejects_size = rejects.tell()
            if job.send_confirmations:
                job.confirmations_queued += _request_confirmations(job, new_subscriber_ids)
            _save_counts(job, report)

        return import_subscribers(
            newsletter=job.newsletter,
            lines=lines,
            mapping=ColumnMapping.from_json(job.mapping),
            opted_in_declaration=job.opted_in_declaration,
            on_reject=on_reject,
            on_chunk=on_chunk,
            delimiter=job.delimiter,
            report=report,
            chunk_size=CHUNK_SIZE,
        )


def _report_so_far(job):
    """The counters of the rows an earlier, interrupted run already committed."""
    return ImportReport(
        rows=job.processed,
        created=job.imported,
        unchanged=job.unchanged,
        suppressed=job.skipped_suppressed,
        rejected=job.rejected,
        rejections=[Rejection(**row) for row in job.rejections],
    )


def _rejects_file(job):
    """The rejects CSV, cut back to what the last committed chunk had written."""
    path = rejects_path(job)
    path.touch(mode=0o600)
    rejects = open(path, "r+", encoding="utf-8", newline="")  # noqa: SIM115 - caller closes
    rejects.truncate(job.rejects_size)
    rejects.seek(job.rejects_size)
    if job.rejects_size == 0:
        csv.writer(rejects).writerow(REJECTS_HEADER)
    return rejects


def _request_confirmations(job, subscriber_ids):
    """Queue confirmation mails through the usual throttled service (priority queue)."""
    pending = Subscription.objects.pending().filter(
        newsletter=job.newsletter, subscriber_id__in=subscriber_ids
    )
    return sum(
        services.request_confirmation(subscription=subscription)
        for subscription in pending.select_related("subscriber")
    )


def _save_counts(job, report):
    job.processed = report.rows
    job.imported = report.created
    job.unchanged = report.unchanged
    job.skipped_suppressed = report.suppressed
    job.rejected = report.rejected
    fields = ["processed", "imported", "unchanged", "skipped_suppressed", "rejected"]
    fields += ["rejects_size", "confirmations_queued"]
    if len(job.rejections) != len(report.rejections):  # the kept list only ever grows
        job.rejections = [asdict(rejection) for rejection in report.rejections]
        fields.append("rejections")
    job.save(update_fields=fields)


def _finish(job, status, error=""):
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])


def progress(job):
    """What the progress page and its JSON endpoint show."""
    now = job.finished_at or timezone.now()
    seconds = (now - job.started_at).total_seconds() if job.started_at else 0
    return {
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "finished": job.finished,
        "total": max(job.total_rows, job.processed),
        "processed": job.processed,
        "imported": job.imported,
        "skipped_suppressed": job.skipped_suppressed,
        "unchanged": job.unchanged,
        "rejected": job.rejected,
        "confirmations_queued": job.confirmations_queued,
        "rows_per_second": round(job.processed / seconds) if seconds > 0 else 0,
        "seconds": round(seconds, 1),
        "error": job.error,
    }


@transaction.atomic
def resume_import(*, job):
    """Queue a failed job again; it goes on after the last row it committed."""
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.FAILED).update(
        status=ImportJob.Status.QUEUED, error="", finished_at=None
    )
    if updated:
        enqueue("subscribers.run_import", job_id=job.pk)
    return bool(updated)


def delete_files(job):
    """Remove a job's uploaded file and rejects file (personal data) from the disk."""
    (imports_dir() / job.upload_name).unlink(missing_ok=True)
    rejects_path(job).unlink(missing_ok=True)
