"""Importing readers needs the import permission, on every step, with or without a token."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from staff.roles import AUTHOR, OWNER
from subscribers.imports import jobs
from subscribers.imports.importing import ColumnMapping
from subscribers.imports.uploads import save_upload
from subscribers.models import ImportJob
from tests.staff.staff_users import StaffClient, make_staff

pytestmark = pytest.mark.django_db

URL = "/admin/subscribers/subscription/import/"
CSV = b"E-Mail,Name\nada@example.org,Ada\n"
# Staff who may see and change subscriptions, but not import.
HELPER = (
    "subscribers.view_subscription",
    "subscribers.change_subscription",
    "subscribers.view_subscriber",
)


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def token():
    return save_upload(SimpleUploadedFile("people.csv", CSV)).token()


def start_data(token, newsletter):
    return {
        "upload": token,
        "newsletter": newsletter.pk,
        "email_column": "E-Mail",
        "name_column": "Name",
        "last_name_column": "",
        "declaration": "",
    }


@pytest.mark.parametrize("role", [None, AUTHOR])
def test_starting_an_import_with_a_token_needs_the_import_permission(role, token, newsletter):
    user = make_staff("helper", role=role, permissions=() if role else HELPER)
    client = StaffClient(user)
    response = client.submit(f"{URL}columns/", start_data(token, newsletter))
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_every_import_page_needs_the_import_permission(token, newsletter):
    job = jobs.start_import(
        upload=save_upload(SimpleUploadedFile("other.csv", CSV)),
        newsletter=newsletter,
        mapping=ColumnMapping(email="E-Mail", name="", last_name="", custom={}),
        opted_in_declaration="",
        send_confirmations=False,
        user=None,
    )
    client = StaffClient(make_staff("helper", permissions=HELPER))
    for url in (
        URL,
        f"{URL}columns/?upload={token}",
        f"{URL}{job.pk}/",
        f"{URL}{job.pk}/progress.json",
    ):
        assert client.get(url).status_code == 403, url
    assert client.submit(URL, {"file": SimpleUploadedFile("p.csv", CSV)}).status_code == 403
    assert client.submit(f"{URL}{job.pk}/resume/").status_code == 403
    assert "Import CSV" not in client.get("/admin/subscribers/subscription/").content.decode()


def test_an_owner_starts_an_import_and_it_is_logged(token, newsletter):
    owner = make_staff("owner", role=OWNER)
    client = StaffClient(owner)
    assert "Import CSV" in client.get("/admin/subscribers/subscription/").content.decode()
    response = client.submit(f"{URL}columns/", start_data(token, newsletter))
    job = ImportJob.objects.get()
    assert response["Location"] == f"{URL}{job.pk}/"
    entry = LogEntry.objects.get(object_id=str(job.pk))
    assert (entry.user, entry.action_flag, entry.change_message) == (
        owner,
        ADDITION,
        "Started import",
    )
