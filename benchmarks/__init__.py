"""Rundbrief's benchmark harness: `make bench`, or `python -m benchmarks --smoke`.

Every figure is measured side by side with its ceiling or peer in the same run, because
absolute times on a shared machine drift; the ratios are what count.
"""
