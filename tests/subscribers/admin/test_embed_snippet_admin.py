import pytest

pytestmark = pytest.mark.django_db


def test_the_newsletter_admin_shows_the_embed_snippet_escaped(admin_client, newsletter):
    response = admin_client.get(f"/admin/newsletter/newsletter/{newsletter.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "&lt;form method=&quot;post&quot; action=&quot;http://testserver/embed/garden/subscribe/&quot;"
        in html
    )
