"""Settings for the fault tests' worker processes: the test settings, plus a numeric
HTTP timeout for anymail (every ANYMAIL_* variable arrives as text, and requests refuses
a timeout given as text), so a provider that hangs costs seconds, not the default 30."""

import os

from config.test_settings import *  # noqa: F403

if os.environ.get("FAULTS_REQUESTS_TIMEOUT"):
    ANYMAIL["REQUESTS_TIMEOUT"] = float(os.environ["FAULTS_REQUESTS_TIMEOUT"])  # noqa: F405
