import pytest
from django.core import mail

from staff.roles import EDITOR
from tests.staff.staff_users import StaffClient, make_staff


@pytest.fixture
def outbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "outbox.backend.OutboxEmailBackend"
    settings.OUTBOX_DIR = tmp_path / "outbox"
    return settings.OUTBOX_DIR


def test_outgoing_mail_lands_as_eml_files(outbox):
    mail.send_mail("Hallo Welt", "Grüße", "a@example.org", ["reader@example.org"])
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    raw = files[0].read_bytes()
    assert b"To: reader@example.org" in raw
    assert b"\r\n" in raw  # wire format, so any mail client opens it


@pytest.mark.django_db
def test_the_admin_lists_and_shows_outbox_mail(outbox, admin_client):
    mail.send_mail("Issue one", "Body text here", "a@example.org", ["reader@example.org"])
    listing = admin_client.get("/admin/outbox/")
    assert listing.status_code == 200
    assert b"Issue one" in listing.content
    name = next(outbox.glob("*.eml")).name
    detail = admin_client.get(f"/admin/outbox/{name}")
    assert b"Body text here" in detail.content


@pytest.mark.django_db
def test_the_outbox_is_for_staff_only_and_refuses_paths(outbox, client, admin_client):
    assert client.get("/admin/outbox/").status_code == 302
    assert admin_client.get("/admin/outbox/..%2Fsecret.eml").status_code == 404


@pytest.mark.django_db
def test_ordinary_staff_cannot_read_the_outbox(outbox):
    mail.send_mail(
        "Confirm", "https://example.org/confirm/secret-token", "a@example.org", ["r@x.org"]
    )
    name = next(outbox.glob("*.eml")).name
    client = StaffClient(make_staff("editor", role=EDITOR))
    assert client.get("/admin/outbox/").status_code == 403
    assert client.get(f"/admin/outbox/{name}").status_code == 403
    assert client.get(f"/admin/outbox/{name}?part=raw").status_code == 403
    assert "/admin/outbox/" not in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_the_outbox_permission_or_a_superuser_opens_it(outbox, admin_client):
    mail.send_mail("Confirm", "the body", "a@example.org", ["r@x.org"])
    reader = StaffClient(make_staff("mailcheck", permissions=["newsletter.view_outbox"]))
    assert reader.get("/admin/outbox/").status_code == 200
    assert "/admin/outbox/" in reader.get("/admin/").content.decode()
    assert admin_client.get("/admin/outbox/").status_code == 200
