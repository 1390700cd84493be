import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    check_secret_key,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_prefixed,
    env_str,
)
from config.mail import parse_email_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROCESS_SETTINGS = {"DEBUG", "SECRET_KEY", "RUNDBRIEF_ENV", "SITE_URL", "ALLOWED_HOSTS"}
GOOD_KEY = "Zq8v3LrP0xWm1Tn4Yb7Kc2Hd5Jf9Gs6Ae0Uo3Ii8Pl1Mk4Nj7Bh2Vg5Cf9Dx6Sz3Qw"


def run_django(code, **env):
    """Import the real settings in a fresh interpreter with exactly this environment."""
    clean = {k: v for k, v in os.environ.items() if k not in PROCESS_SETTINGS}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_parses_the_three_smtp_url_forms():
    plain = parse_email_url("smtp://mail.example.org:2525")
    assert (plain["EMAIL_HOST"], plain["EMAIL_PORT"]) == ("mail.example.org", 2525)
    assert not plain["EMAIL_USE_TLS"] and not plain["EMAIL_USE_SSL"]

    starttls = parse_email_url("smtp+tls://user%40example.org:p%40ss@mail.example.org")
    assert starttls["EMAIL_USE_TLS"] and not starttls["EMAIL_USE_SSL"]
    assert starttls["EMAIL_PORT"] == 587
    assert starttls["EMAIL_HOST_USER"] == "user@example.org"
    assert starttls["EMAIL_HOST_PASSWORD"] == "p@ss"

    implicit = parse_email_url("smtps://u:p@mail.example.org")
    assert implicit["EMAIL_USE_SSL"] and not implicit["EMAIL_USE_TLS"]
    assert implicit["EMAIL_PORT"] == 465


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "imap://x:1"])
def test_it_rejects_email_urls_it_cannot_use(url):
    with pytest.raises(ImproperlyConfigured):
        parse_email_url(url)


@pytest.mark.parametrize(
    "key", ["", "short", "django-insecure-" + "a1b2c3d4" * 6, "changeme" * 8, "a" * 60]
)
def test_it_refuses_insecure_secret_keys(key):
    with pytest.raises(ImproperlyConfigured):
        check_secret_key(key)


def test_it_accepts_a_random_secret_key():
    check_secret_key(GOOD_KEY)


def test_env_bool_refuses_ambiguous_values(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG")
    monkeypatch.setenv("SOME_FLAG", "Yes")
    assert env_bool("SOME_FLAG") is True


def test_production_refuses_to_start_without_a_secret_key():
    result = run_django("print('started')")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_with_debug_on():
    result = run_django("print('started')", DEBUG="1", SECRET_KEY=GOOD_KEY)
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    env = {
        "SECRET_KEY": GOOD_KEY,
        "SITE_URL": "https://news.example.org",
        "RUNDBRIEF_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    clean = {k: v for k, v in os.environ.items() if k not in PROCESS_SETTINGS}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_embedded_default_uses_sqlite_file_broker_and_outbox(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND)"
    )
    result = run_django(
        code,
        DEBUG="1",
        SECRET_KEY="dev",
        RUNDBRIEF_ENV="development",
        RUNDBRIEF_VAR_DIR=str(tmp_path),
        DATABASE_URL="",
        REDIS_URL="",
        EMAIL_URL="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "outbox.backend.OutboxEmailBackend",
    ]


def test_database_and_redis_urls_switch_to_postgres_and_redis(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
        "s.CACHES['default']['BACKEND'])"
    )
    result = run_django(
        code,
        SECRET_KEY=GOOD_KEY,
        RUNDBRIEF_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://127.0.0.1:6379/3",
        "config.redis_cache.RedisCache",
    ]


def test_email_provider_selects_the_anymail_backend_and_reads_its_settings(tmp_path):
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.ANYMAIL)"
    result = run_django(
        code,
        SECRET_KEY=GOOD_KEY,
        RUNDBRIEF_VAR_DIR=str(tmp_path),
        EMAIL_PROVIDER="postmark",
        ANYMAIL_POSTMARK_SERVER_TOKEN="tok-123",
        ANYMAIL_WEBHOOK_SECRET="hook:s3cret",
    )
    assert result.returncode == 0, result.stderr
    assert "anymail.backends.postmark.EmailBackend" in result.stdout
    assert "'POSTMARK_SERVER_TOKEN': 'tok-123'" in result.stdout


def test_anymail_requests_timeout_from_the_environment_is_a_number():
    result = run_django(
        "from django.conf import settings; print(repr(settings.ANYMAIL['REQUESTS_TIMEOUT']))",
        RUNDBRIEF_ENV="development",
        SECRET_KEY=GOOD_KEY,
        ANYMAIL_REQUESTS_TIMEOUT="7.5",
    )
    assert result.stdout.strip().splitlines()[-1] == "7.5", result.stderr


def dump_settings(env):
    """Every setting's repr, under exactly this environment."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: repr(getattr(s, k)) for k in dir(s) if k.isupper()}))"
    )
    env = {**env, "PYTHONHASHSEED": "0", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_variable_of_env_example_left_empty_takes_its_default():
    example = (BASE_DIR / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    required = {
        "SECRET_KEY": GOOD_KEY,
        "SUPPRESSION_HASH_KEY": GOOD_KEY[::-1] + "S",
        "SITE_URL": "https://news.example.org",
    }
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **required}
    empty = {name: "" for name in names - set(required)}
    with_empty = dump_settings({**base, **empty})
    without = dump_settings(base)

    lazy = {k for k, v in without.items() if " at 0x" in v}  # reprs with an address
    assert {k: v for k, v in with_empty.items() if k not in lazy} == {
        k: v for k, v in without.items() if k not in lazy
    }
    assert with_empty["STATIC_ROOT"] != with_empty["MEDIA_ROOT"]
    assert with_empty["SECURE_SSL_REDIRECT"] == "True"
    assert with_empty["MAIL_DOMAIN"] == "'news.example.org'"
    assert with_empty["SERVER_EMAIL"] == with_empty["DEFAULT_FROM_EMAIL"]
    assert with_empty["CSRF_TRUSTED_ORIGINS"] == "['https://news.example.org']"
    assert with_empty["ALLOWED_HOSTS"] == "['news.example.org']"


@pytest.mark.parametrize("parser", [env_str, env_bool, env_int, env_float, env_list])
def test_each_parser_reads_an_empty_or_blank_value_as_its_default(parser, monkeypatch):
    default = {env_str: "d", env_bool: True, env_int: 7, env_float: 1.5, env_list: "a,b"}[parser]
    monkeypatch.setenv("SOME_SETTING", "  ")
    expected = ["a", "b"] if parser is env_list else default
    assert parser("SOME_SETTING", default) == expected
    monkeypatch.setenv("SOME_SETTING", "")
    assert parser("SOME_SETTING", default) == expected
    assert env_choice("SOME_SETTING", ("x", "y"), "y") == "y"


def test_anymail_settings_come_from_their_variables_and_files_but_not_empty_ones(
    monkeypatch, tmp_path
):
    token = tmp_path / "token"
    token.write_text("tok-from-file\n")
    monkeypatch.setenv("ANYMAIL_POSTMARK_SERVER_TOKEN_FILE", str(token))
    monkeypatch.setenv("ANYMAIL_WEBHOOK_SECRET", "hook:s3cret")
    monkeypatch.setenv("ANYMAIL_MAILGUN_API_KEY", "")
    assert env_prefixed("ANYMAIL_") == {
        "POSTMARK_SERVER_TOKEN": "tok-from-file",
        "WEBHOOK_SECRET": "hook:s3cret",
    }
