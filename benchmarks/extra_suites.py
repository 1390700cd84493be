"""Batch API, scale, confirmation latency and CSV import measurements."""

from benchmarks.workers import NotRun


def batch_api(context):
    raise NotRun("not written yet")


def scale(context):
    raise NotRun("not written yet")


def confirmation_latency(context):
    raise NotRun("not written yet")


def csv_import(context):
    raise NotRun("not written yet")
