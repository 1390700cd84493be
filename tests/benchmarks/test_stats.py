from benchmarks.stats import percentile, ratio, summary


def test_summary_gives_median_min_and_max_of_the_runs():
    assert summary([3.0, 1.0, 2.0]) == {
        "median": 2.0,
        "min": 1.0,
        "max": 3.0,
        "runs": 3,
        "values": [3.0, 1.0, 2.0],
    }


def test_summary_leaves_out_runs_that_did_not_finish():
    figure = summary([None, 4.0, 2.0])
    assert (figure["median"], figure["min"], figure["max"], figure["runs"]) == (3.0, 2.0, 4.0, 3)


def test_summary_of_no_finished_run_is_empty_not_zero():
    assert summary([None])["median"] is None


def test_percentile_is_nearest_rank():
    values = sorted(range(1, 201))  # 1..200
    assert percentile(values, 0.50) == 100
    assert percentile(values, 0.95) == 190
    assert percentile(values, 1.0) == 200
    assert percentile([], 0.5) is None


def test_ratio_is_none_when_a_side_is_missing():
    assert ratio(50, 100) == 0.5
    assert ratio(None, 100) is None
    assert ratio(50, None) is None
