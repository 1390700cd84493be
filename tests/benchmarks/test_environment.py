import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
START_DJANGO = (
    "from benchmarks import environment; environment.configure(); "
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.RUNDBRIEF_ENV, settings.DEBUG)"
)


def test_the_benchmark_environment_starts_rundbrief_in_production_mode(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("SECRET_KEY", "SUPPRESSION_HASH_KEY", "DJANGO_SETTINGS_MODULE", "RUNDBRIEF_ENV")
    }
    env["RUNDBRIEF_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", START_DJANGO],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["production", "False"]
    assert (tmp_path / "bench-suppression-hash-key").read_text().strip()
