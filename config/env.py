"""Strict parsers for settings read from the environment.

Every setting comes from an environment variable (12-factor). A value that cannot be
parsed stops start-up with ImproperlyConfigured instead of silently using a default.
A `<NAME>_FILE` variable (Docker secrets) takes precedence over `<NAME>`. An empty or
blank value means the default, as if the variable were not set.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off"}


def env_raw(name):
    """The variable's text, or None when it is unset, empty or blank.

    Empty counts as unset everywhere: an `.env` line `NAME=` reaches a container as an
    empty string, and must leave the default in place rather than override it.
    """
    file_path = os.environ.get(f"{name}_FILE", "").strip()
    if file_path:
        try:
            raw = Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    else:
        raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    return raw


def env_str(name, default=""):
    raw = env_raw(name)
    return default if raw is None else raw


def env_bool(name, default=False):
    raw = env_raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name, default):
    raw = env_raw(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from exc


def env_float(name, default):
    raw = env_raw(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from exc


def env_list(name, default=""):
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_choice(name, choices, default):
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def env_prefixed(prefix):
    """{NAME: value} of every non-empty PREFIXNAME (or PREFIXNAME_FILE) variable."""
    names = {name.removesuffix("_FILE") for name in os.environ if name.startswith(prefix)}
    values = {name.removeprefix(prefix): env_raw(name) for name in names}
    return {name: value for name, value in values.items() if value is not None}


INSECURE_KEY_MARKERS = ("insecure", "changeme", "change-me", "secret", "dev-only")


def check_secret_key(key, name="SECRET_KEY"):
    """Refuse keys that are short, low in variety or obviously placeholders."""
    if len(key) < 50 or len(set(key)) < 5:
        raise ImproperlyConfigured(
            f"{name} must be at least 50 characters of random text. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if any(marker in key.lower() for marker in INSECURE_KEY_MARKERS):
        raise ImproperlyConfigured(f"{name} looks like a placeholder; set a random value.")
