"""Benchmark-only settings: production settings plus the trivial ceiling view's URLconf."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.web_urls"
