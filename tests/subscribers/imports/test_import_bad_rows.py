"""Rows a CSV import cannot take: a NUL byte, or a quote that is never closed.

Each such row is rejected with the line it starts on and the other rows are imported,
through the command (the ORM writer on SQLite, COPY on PostgreSQL) and through an
upload run by a real worker.
"""

import csv
import io

import pytest
from django.core.management import call_command

from subscribers.imports.uploads import imports_dir
from subscribers.models import ImportJob, Subscriber, Subscription
from tests.subscribers.imports.test_import_upload_view import stored_upload, upload
from tests.subscribers.imports.test_import_worker import upload_and_map, wait_until_finished
from tests.subscribers.imports.test_run_import_service import run as run_job
from tests.subscribers.imports.test_run_import_service import start

HEADER = "email,name\n"


def run(tmp_path, text):
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_subscribers", "garden", str(path), "--rejects", str(rejects), stdout=out, stderr=err
    )
    with open(rejects, encoding="utf-8", newline="") as handle:
        rejected = list(csv.DictReader(handle))
    return out.getvalue(), rejected


@pytest.fixture
def private_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


def imported():
    return sorted(Subscriber.objects.values_list("email", flat=True))


@pytest.mark.django_db
def test_a_row_with_a_nul_byte_is_rejected_with_its_line_and_the_others_are_imported(
    tmp_path, newsletter
):
    text = HEADER + "ada@example.org,Ada\nbob@example.org,B\x00b\ncarl@example.org,Carl\n"
    out, rejected = run(tmp_path, text)
    assert "3 rows: 2 imported" in out and "1 rejected" in out
    assert imported() == ["ada@example.org", "carl@example.org"]
    assert [(row["line"], row["value"]) for row in rejected] == [("3", "bob@example.org")]
    assert "NUL" in rejected[0]["reason"]


@pytest.mark.django_db
def test_a_nul_byte_in_the_address_is_rejected_too_and_never_stored(tmp_path, newsletter):
    out, rejected = run(tmp_path, HEADER + "a\x00da@example.org,Ada\ncarl@example.org,Carl\n")
    assert imported() == ["carl@example.org"]
    assert rejected[0]["line"] == "2" and "\x00" not in rejected[0]["value"]


@pytest.mark.django_db
def test_an_unclosed_quote_is_rejected_with_its_line_instead_of_swallowing_the_rest(
    tmp_path, newsletter
):
    text = HEADER + 'ada@example.org,Ada\nbob@example.org,"Bob\ncarl@example.org,Carl\n'
    text += "dora@example.org,Dora\n"
    out, rejected = run(tmp_path, text)
    assert "4 rows: 3 imported" in out and "1 rejected" in out
    assert imported() == ["ada@example.org", "carl@example.org", "dora@example.org"]
    assert Subscriber.objects.get(email="carl@example.org").name == "Carl"
    assert [(row["line"], row["value"]) for row in rejected] == [("3", "bob@example.org")]
    assert "quote" in rejected[0]["reason"]


@pytest.mark.django_db
def test_a_quote_closed_by_a_stray_quote_rows_later_does_not_swallow_the_rows_between(
    tmp_path, newsletter
):
    text = HEADER + 'bob@example.org,"Bob\ncarl@example.org,Carl\ndora@example.org,Dora"s\n'
    text += "eve@example.org,Eve\n"
    out, rejected = run(tmp_path, text)
    assert imported() == ["carl@example.org", "dora@example.org", "eve@example.org"]
    assert Subscriber.objects.get(email="dora@example.org").name == 'Dora"s'
    assert [row["line"] for row in rejected] == ["2"]


@pytest.mark.django_db
def test_a_quoted_cell_over_two_lines_is_still_one_row(tmp_path, newsletter):
    # Read as one row, whose name then breaks the one-line rule for names (not a quote left
    # open, and no row made of its second line).
    text = HEADER + 'ada@example.org,"Ada\nLovelace"\ncarl@example.org,Carl\n'
    out, rejected = run(tmp_path, text)
    assert "2 rows: 1 imported" in out
    assert imported() == ["carl@example.org"]
    assert [(row["line"], row["value"]) for row in rejected] == [("2", "ada@example.org")]
    assert "quote" not in rejected[0]["reason"] and "Name" in rejected[0]["reason"]


@pytest.mark.django_db
def test_the_line_numbers_stay_true_after_a_cell_over_two_lines(tmp_path, newsletter):
    text = HEADER + 'ada@example.org,"Ada\nLovelace"\nbroken,Bob\n'
    _out, rejected = run(tmp_path, text)
    # The two-line name is refused at the line it starts on; the next row is on line 4.
    assert [(row["line"], row["value"]) for row in rejected] == [
        ("2", "ada@example.org"),
        ("4", "broken"),
    ]


@pytest.mark.django_db
def test_an_upload_counts_the_bad_rows_it_will_reject(admin_client, private_dir):
    content = (HEADER + 'a@example.org,A\nb@example.org,"B\nc@example.org,C\x00\n').encode()
    assert stored_upload(upload(admin_client, content)).total_rows == 3


@pytest.mark.django_db
def test_an_upload_whose_header_has_a_nul_byte_is_refused_with_a_clear_message(
    admin_client, private_dir
):
    response = upload(admin_client, b"em\x00ail,name\na@example.org,A\n")
    message = " ".join(response.context_data["form"].errors["file"])
    assert "The first row cannot be read" in message and "NUL" in message


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_rejects_the_bad_rows_of_an_upload_and_imports_the_rest(
    start_worker, admin_client, newsletter
):
    rows = [f"reader{i}@example.org,Reader {i}" for i in range(30)]
    rows[10] = "nul@example.org,N\x00L"
    rows[20] = 'open@example.org,"Open'
    content = (HEADER + "\n".join(rows) + "\n").encode()
    start_worker(queues="default")
    progress_url = upload_and_map(admin_client, newsletter, content)

    state, _seen = wait_until_finished(admin_client, progress_url)
    assert state["status"] == "done", state["error"]
    assert (state["total"], state["processed"], state["rejected"]) == (30, 30, 2)
    assert state["imported"] == 28
    assert Subscription.objects.filter(newsletter=newsletter).count() == 28
    rejects = b"".join(admin_client.get(progress_url + "rejects.csv").streaming_content)
    lines = [row[0] for row in csv.reader(io.StringIO(rejects.decode()))]
    assert lines == ["line", "12", "22"]


@pytest.mark.django_db
def test_a_failed_job_tells_the_staff_why_without_naming_the_servers_folders(
    newsletter, private_dir, settings
):
    job = start(newsletter, "E-Mail\na@example.org\n")
    (imports_dir() / job.upload_name).unlink()
    job = run_job(job)
    assert job.status == ImportJob.Status.FAILED
    assert "FileNotFoundError" in job.error and "No such file" in job.error
    assert str(settings.VAR_DIR) not in job.error and str(settings.BASE_DIR) not in job.error
