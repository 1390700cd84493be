"""Settings for the test suite: the real settings, fed test values through the environment.

Worker processes started by tests use this module too, with DATABASE_URL pointing at the
test database, so both sides agree on keys and paths.
"""

import os
from pathlib import Path

os.environ.setdefault("RUNDBRIEF_ENV", "test")
os.environ.setdefault("DEBUG", "0")
# A fixed, non-secret key, only ever used by the test suite.
os.environ.setdefault("SECRET_KEY", "t3st-k3y-0f-rundbr1ef-n0t-f0r-pr0duct10n-" + "x" * 24)
# The suppression list's own key; processes that tests start in production mode inherit it.
os.environ.setdefault(
    "SUPPRESSION_HASH_KEY", "t3st-supPr3ss10n-h4sh-n0t-f0r-pr0duct10n-" + "y" * 24
)
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault(
    "RUNDBRIEF_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files come from the app folders in tests; no collectstatic run is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
