"""Step one of the admin import: the upload is checked, stored privately, or refused."""

from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from subscribers.imports.uploads import Upload
from subscribers.models import ImportJob, Subscriber

pytestmark = pytest.mark.django_db

URL = "/admin/subscribers/subscription/import/"


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.VAR_DIR / "imports"


def upload(admin_client, content, name="people.csv"):
    return admin_client.post(URL, {"file": SimpleUploadedFile(name, content, "text/csv")})


def stored_upload(response):
    token = response["Location"].split("upload=", 1)[1]
    return Upload.from_token(unquote(token))


def files_in(folder):
    return list(folder.iterdir()) if folder.exists() else []


def test_a_good_file_is_stored_privately_and_leads_to_the_column_picker(
    admin_client, private_dir, settings
):
    response = upload(admin_client, b"E-Mail;Vorname;Nachname\nada@example.org;Ada;L\n")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/subscribers/subscription/import/columns/")
    stored = stored_upload(response)
    assert stored.path.parent == private_dir
    assert not stored.path.is_relative_to(settings.MEDIA_ROOT)
    assert (stored.delimiter, stored.total_rows) == (";", 1)
    assert oct(stored.path.stat().st_mode & 0o777) == "0o600"

    page = admin_client.get(response["Location"])
    form = page.context_data["form"]
    assert form.initial["email_column"] == "E-Mail"
    assert form.initial["name_column"] == "Vorname"
    assert form.initial["last_name_column"] == "Nachname"
    assert "ada@example.org" in page.content.decode()  # the preview
    assert not Subscriber.objects.exists()  # nothing imported before the columns are chosen


def test_the_rows_are_counted_even_with_line_breaks_inside_cells(admin_client):
    content = b'email,note\na@example.org,"two\nlines"\nb@example.org,x\n'
    assert stored_upload(upload(admin_client, content)).total_rows == 2


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "file is empty."),  # Django's own check comes first
        ("email,name\nzoë@example.org,Zoë\n".encode("latin-1"), "The file is not UTF-8 text"),
        (b"email,name\n", "The file has a header row but no rows below it."),
        (b"name,city\nAda,London\nBob,Paris\n", "No column with email addresses found"),
        (b"email,email\na@example.org,b@example.org\n", "appears twice"),
        (b",,\na@example.org,,\n", "The first row must name the columns"),
        (b'email,name\n"a@example.org,Ada\n' + b"x" * (1 << 21), "The file is not valid CSV"),
    ],
    ids=["empty", "latin-1", "header-only", "no-email", "duplicate", "no-header", "broken"],
)
def test_a_bad_file_gets_a_clear_message_and_leaves_nothing_behind(
    admin_client, private_dir, content, message
):
    response = upload(admin_client, content)
    assert response.status_code == 200
    assert message in " ".join(response.context_data["form"].errors["file"])
    assert files_in(private_dir) == []
    assert not ImportJob.objects.exists() and not Subscriber.objects.exists()


def test_the_not_utf8_message_says_where(admin_client):
    response = upload(admin_client, b"email\nab\xe9@example.org\n")
    assert "(byte 9)" in response.context_data["form"].errors["file"][0]


def test_a_byte_order_mark_is_not_part_of_the_first_column(admin_client):
    response = upload(admin_client, "\ufeffEmail,Name\nada@example.org,Ada\n".encode())
    page = admin_client.get(response["Location"])
    assert page.context_data["form"].initial["email_column"] == "Email"


def test_a_tampered_upload_token_goes_back_to_the_upload(admin_client):
    response = admin_client.get(URL + "columns/", {"upload": "../../etc/passwd"})
    assert response.status_code == 302 and response["Location"] == URL


def test_only_staff_can_upload(client, private_dir):
    response = client.post(URL, {"file": SimpleUploadedFile("a.csv", b"email\na@b.org\n")})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert files_in(private_dir) == []
