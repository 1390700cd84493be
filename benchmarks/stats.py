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


def queries_text(queries):
    """SQL queries per send_batch task, first tenth against last tenth. Tasks with no
    query left out: a lane's last step can end before it touches the database."""
    counted = [value for value in queries if value > 0]
    if not counted:
        return "not measured"
    tenth = max(1, len(counted) // 10)
    first, last = sorted(counted[:tenth]), sorted(counted[-tenth:])
    return (
        f"{len(counted)} batch tasks; median of the first tenth {first[len(first) // 2]}, "
        f"of the last tenth {last[len(last) // 2]}; min {min(counted)}, max {max(counted)} "
        "(the larger counts are a lane's last step, which marks the issue sent)"
    )
