import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from newsletter.models import Newsletter


@pytest.mark.django_db
def test_it_refuses_outside_development_and_creates_nothing(settings, capsys):
    settings.RUNDBRIEF_ENV, settings.DEBUG = "production", False
    with pytest.raises(CommandError, match="RUNDBRIEF_ENV=development"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()
    assert not Newsletter.objects.exists()
    assert "password" not in capsys.readouterr().out


@pytest.mark.django_db
def test_it_creates_the_demo_and_an_admin_in_development(settings, capsys):
    settings.RUNDBRIEF_ENV = "development"
    call_command("seed_demo")
    assert Newsletter.objects.filter(slug="demo").exists()
    assert get_user_model().objects.get(username="admin").is_superuser
    assert "password:" in capsys.readouterr().out
