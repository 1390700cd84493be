import pytest

from config.celery import app as celery_app


@pytest.mark.django_db
def test_it_reports_database_and_broker_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": True}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_answers_503_when_the_broker_is_unreachable(client, monkeypatch, settings):
    if not settings.REDIS_URL:
        pytest.skip("the embedded file broker has no network to lose")
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] is False
    assert response.json()["database"] is True


@pytest.mark.django_db
def test_it_sends_a_strict_content_security_policy(client):
    policy = client.get("/healthz")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.fixture
def public_host_only(settings):
    """Production's host rules: only the public name, and HTTPS redirects on."""
    settings.ALLOWED_HOSTS = ["news.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    return settings


@pytest.mark.django_db
def test_the_probe_inside_the_container_is_answered_whatever_its_host(client, public_host_only):
    for peer in ("127.0.0.1", "::1"):
        response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000", REMOTE_ADDR=peer)
        assert response.status_code == 200, peer
        assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_a_probe_from_outside_still_needs_an_allowed_host(client, public_host_only):
    refused = client.get("/healthz", HTTP_HOST="127.0.0.1:8000", REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 400
    allowed = client.get(
        "/healthz", HTTP_HOST="news.example.org", REMOTE_ADDR="203.0.113.7", secure=False
    )
    assert allowed.status_code == 200  # not redirected to https: load balancers probe plainly


@pytest.mark.django_db
def test_other_pages_from_loopback_still_need_an_allowed_host(client, public_host_only):
    for path in ("/", "/healthz/", "/admin/", "/healthzx"):
        response = client.get(path, HTTP_HOST="127.0.0.1:8000", REMOTE_ADDR="127.0.0.1")
        assert response.status_code == 400, path
