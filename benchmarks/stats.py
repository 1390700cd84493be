"""Summaries of repeated runs: every figure is reported as median, min and max."""

import statistics


def summary(values):
    """Median, min and max of a list of numbers (None values are runs that did not finish)."""
    numbers = [value for value in values if value is not None]
    if not numbers:
        return {"median": None, "min": None, "max": None, "runs": len(values), "values": values}
    return {
        "median": statistics.median(numbers),
        "min": min(numbers),
        "max": max(numbers),
        "runs": len(values),
        "values": values,
    }


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list (fraction in 0..1)."""
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def ratio(numerator, denominator):
    if not numerator or not denominator:
        return None
    return numerator / denominator
