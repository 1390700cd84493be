"""Step two and three of the admin import: the column picker and the progress page."""

from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from subscribers.imports import jobs
from subscribers.models import ImportJob, Subscriber

pytestmark = pytest.mark.django_db

URL = "/admin/subscribers/subscription/import/"
CSV = b"E-Mail,Name,City\nada@example.org,Ada,London\nbroken,Bob,Paris\n"


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def columns_url(admin_client):
    response = admin_client.post(URL, {"file": SimpleUploadedFile("people.csv", CSV)})
    return response["Location"]


def mapping_data(columns_url, newsletter, **extra):
    token = unquote(columns_url.split("upload=", 1)[1])
    return {
        "upload": token,
        "newsletter": newsletter.pk,
        "email_column": "E-Mail",
        "name_column": "Name",
        "last_name_column": "",
        "custom_columns": ["City"],
        "declaration": "",
        **extra,
    }


def test_choosing_the_columns_queues_a_job_and_shows_its_progress(
    admin_client, admin_user, newsletter, columns_url, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(columns_url, mapping_data(columns_url, newsletter))
    job = ImportJob.objects.get()
    assert response["Location"] == f"{URL}{job.pk}/"
    assert len(callbacks) == 1  # subscribers.run_import, sent once the job is committed
    assert job.mapping == {
        "email": "E-Mail",
        "name": "Name",
        "last_name": "",
        "custom": {"City": "City"},
    }
    assert (job.created_by, job.total_rows, job.status) == (admin_user, 2, "queued")
    assert not Subscriber.objects.exists()  # the worker does the importing

    page = admin_client.get(response["Location"]).content.decode()
    assert '<progress id="import-bar" max="2" value="0">' in page
    assert "js/subscribers-import.js" in page and "<script>" not in page
    assert " style=" not in page  # strict CSP: no inline style attributes
    assert admin_client.get(f"{URL}{job.pk}/progress.json").json()["status"] == "queued"
    assert admin_client.get(f"{URL}{job.pk}/rejects.csv").status_code == 404


def test_after_the_run_the_page_lists_rejects_and_offers_them_as_csv(
    admin_client, newsletter, columns_url
):
    admin_client.post(columns_url, mapping_data(columns_url, newsletter))
    job = ImportJob.objects.get()
    jobs.run_import(job_id=job.pk)

    progress = admin_client.get(f"{URL}{job.pk}/progress.json").json()
    assert progress["finished"] and (progress["imported"], progress["rejected"]) == (1, 1)
    page = admin_client.get(f"{URL}{job.pk}/").content.decode()
    assert '<progress id="import-bar" max="2" value="2">' in page
    assert "broken" in page and "rejects.csv" in page
    download = admin_client.get(f"{URL}{job.pk}/rejects.csv")
    assert download["Content-Disposition"].startswith("attachment")
    assert b"broken" in b"".join(download.streaming_content)


@pytest.mark.parametrize(
    "extra, field, message",
    [
        ({"declaration": "Fair", "send_confirmations": "on"}, "send_confirmations", "no mail"),
        ({"custom_columns": ["E-Mail"]}, "email_column", "cannot be used"),
        ({"email_column": "Phone"}, "email_column", "Select a valid choice"),
    ],
)
def test_contradicting_choices_are_refused_and_start_nothing(
    admin_client, newsletter, columns_url, extra, field, message
):
    response = admin_client.post(columns_url, mapping_data(columns_url, newsletter, **extra))
    assert response.status_code == 200
    assert message in " ".join(response.context_data["form"].errors[field])
    assert not ImportJob.objects.exists()


def test_the_progress_endpoints_are_for_staff_only(client, admin_client, newsletter, columns_url):
    admin_client.post(columns_url, mapping_data(columns_url, newsletter))
    job = ImportJob.objects.get()
    for path in ("", "progress.json", "rejects.csv"):
        response = client.get(f"{URL}{job.pk}/{path}")
        assert response.status_code == 302 and "/login/" in response["Location"]
