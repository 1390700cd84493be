import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from newsletter.rendering.images import CONTENT_WIDTH, logo_width, size_images


def png(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://news.example.org"
    return tmp_path


def uploaded(name, width, height):
    path = default_storage.save(f"uploads/{name}", ContentFile(png(width, height)))
    return f"https://news.example.org/media/{path}"


def test_a_large_upload_is_shown_at_the_column_width(media):
    url = uploaded("big.png", 1600, 900)
    assert size_images(f'<p><img alt="Map" src="{url}"></p>') == (
        f'<p><img alt="Map" src="{url}" width="{CONTENT_WIDTH}"></p>'
    )


def test_a_small_upload_keeps_its_natural_width(media):
    url = uploaded("icon.png", 120, 40)
    assert 'width="120"' in size_images(f'<img alt="Icon" src="{url}">')


def test_an_external_image_gets_the_column_width_and_youtube_its_thumbnail_width(media):
    html = size_images(
        '<img alt="a" src="https://cdn.example.com/a.jpg">'
        '<img alt="b" src="https://img.youtube.com/vi/abc123/hqdefault.jpg">'
    )
    assert f'src="https://cdn.example.com/a.jpg" width="{CONTENT_WIDTH}"' in html
    assert 'hqdefault.jpg" width="480"' in html


def test_an_author_width_is_capped_and_a_distorting_height_dropped(media):
    html = size_images('<img alt="x" height="700" src="https://e.org/x.png" width="900">')
    assert html == f'<img alt="x" src="https://e.org/x.png" width="{CONTENT_WIDTH}">'
    assert size_images('<img alt="y" src="https://e.org/y.png" width="300">').endswith(
        'width="300">'
    )


@pytest.mark.django_db
def test_the_logo_width_keeps_its_aspect_ratio_at_the_logo_height(media):
    from newsletter.models import Newsletter

    newsletter = Newsletter(name="N", slug="n", from_name="N", from_email="n@example.org")
    newsletter.logo.save("logo.png", ContentFile(png(400, 100)), save=False)
    assert logo_width(newsletter.logo, 48) == 192
