import json

from benchmarks import report
from benchmarks.stats import summary
from benchmarks.suites import Context, Sizes

META = {
    "mode": "smoke",
    "generated_at": "2026-01-01 00:00 UTC",
    "wall_minutes": 1.5,
    "machine": {"cores": 2},
    "commands": ["make bench"],
}


def transport_row():
    return {
        "readers": 300,
        "message": {"origin": "x", "bytes": 19000, "html_bytes": 13000},
        "connections": 2,
        "ceiling": {"per_second": summary([6000.0, 7000.0, 8000.0])},
        "rundbrief": {
            "per_second": summary([300.0, 350.0, 400.0]),
            "cpu_seconds_per_1000": summary([2.5, 3.0, 3.5]),
            "peak_rss_process_mib": summary([110.0, 115.0, 120.0]),
        },
        "rundbrief_not_run": None,
        "peer": {"per_second": summary([100.0, 120.0, 140.0])},
        "peer_name": "django-newsletter 1.2.1",
        "ratio_to_ceiling": 350 / 7000,
        "ratio_to_peer": 350 / 120,
    }


def test_it_writes_medians_with_ranges_ratios_and_a_chart(tmp_path):
    context = Context(env={}, sizes=Sizes([300], [300], [], 0, 0, []))
    context.measurements["smtp_send"] = {"300": transport_row()}
    context.not_run["csv_import"] = "the import command is not there yet"

    report.write(context, META, tmp_path, tmp_path / "charts")

    markdown = (tmp_path / "BENCHMARKS.md").read_text()
    assert "| 300 | 7,000 (6,000 – 8,000) | 350 (300 – 400) | 5 % |" in markdown
    assert "2.9×" in markdown
    assert "- **csv_import**: the import command is not there yet" in markdown
    assert "![SMTP send](charts/smtp-send.svg)" in markdown
    assert (tmp_path / "charts" / "smtp-send.svg").read_text().startswith("<svg")
    document = json.loads((tmp_path / "BENCHMARKS.json").read_text())
    assert document["measurements"]["smtp_send"]["300"]["ceiling"]["per_second"]["median"] == 7000


def test_a_figure_that_was_not_measured_says_so():
    assert report.fmt(None) == "not run"
    assert report.fmt(summary([None, None])) == "not run"
    assert report.fmt(summary([2.0]), 1, " s") == "2.0 s (1 run)"
