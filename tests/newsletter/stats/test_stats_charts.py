"""The statistics charts: inline SVG with one bar per value, heights proportional to it."""

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string

from newsletter.stats import IssueStats, NewsletterStats, Week, charts

WEEK_ONE = date(2025, 7, 21)


def make_weeks(gained, lost):
    return [
        Week(WEEK_ONE + timedelta(weeks=index), gained=up, lost=down)
        for index, (up, down) in enumerate(zip(gained, lost, strict=True))
    ]


def svg_of(html):
    """The first <svg> element of an HTML fragment, parsed as XML."""
    return ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))  # noqa: S314 - our own output


def bars(svg, kind):
    return [rect for rect in svg.iter("rect") if f"rb-bar-{kind}" in rect.get("class", "")]


def render_weekly(weeks):
    stats = NewsletterStats(confirmed=0, pending=0, signups=0, signups_confirmed=0,
                            signups_expired=0, weeks=weeks)  # fmt: skip
    chart = charts.weekly_chart(weeks)
    return render_to_string(
        "admin/newsletter/_chart_weekly.html", {"chart": chart, "stats": stats, "weeks": 26}
    )


def test_the_weekly_chart_has_one_bar_per_week_with_readers_gained_or_lost():
    gained = [0, 3, 0, 6, 1] + [0] * 21
    lost = [2, 0, 0, 1, 0] + [0] * 21

    svg = svg_of(render_weekly(make_weeks(gained, lost)))

    assert [int(b.get("data-value")) for b in bars(svg, "gained")] == [3, 6, 1]
    assert [int(b.get("data-value")) for b in bars(svg, "lost")] == [2, 1]


def test_bar_heights_are_proportional_to_the_values_on_one_scale_for_both_directions():
    gained = [4, 8, 2] + [0] * 23
    lost = [0, 4, 1] + [0] * 23

    svg = svg_of(render_weekly(make_weeks(gained, lost)))

    all_bars = bars(svg, "gained") + bars(svg, "lost")
    per_reader = {round(float(b.get("height")) / int(b.get("data-value")), 1) for b in all_bars}
    assert len(per_reader) == 1
    # The tallest gained bar reaches the top of the plot, the longest lost bar the bottom.
    chart = charts.weekly_chart(make_weeks(gained, lost))
    assert chart.gained[1].height + chart.lost[1].height == pytest.approx(chart.height - 14 - 34)


def test_gained_bars_stand_on_the_zero_line_and_lost_bars_hang_from_it():
    chart = charts.weekly_chart(make_weeks([5] + [0] * 25, [3] + [0] * 25))

    assert chart.gained[0].y + chart.gained[0].height == pytest.approx(chart.zero_y)
    assert chart.lost[0].y == pytest.approx(chart.zero_y)


def test_bars_of_later_weeks_are_further_right_and_never_overlap():
    chart = charts.weekly_chart(make_weeks([1] * 26, [0] * 26))

    xs = [bar.x for bar in chart.gained]
    assert xs == sorted(xs)
    assert all(b.x - a.x > a.width for a, b in zip(chart.gained, chart.gained[1:], strict=False))
    assert chart.gained[-1].x + chart.gained[-1].width <= chart.plot_right


def test_the_chart_is_labelled_for_screen_readers_and_has_a_table_of_the_numbers():
    html = render_weekly(make_weeks([2] + [0] * 25, [1] + [0] * 25))
    svg = svg_of(html)

    assert svg.get("role") == "img"
    labelled_by = svg.get("aria-labelledby").split()
    assert [child.get("id") for child in svg if child.tag in ("title", "desc")] == labelled_by
    assert "2 gained and 1 lost" in svg.find("desc").text
    table = re.search(r"<details.*?</details>", html, re.S).group(0)
    assert table.count("<tr>") == 1 + 26  # the head and one row per week
    assert "style=" not in html  # strict CSP: no inline style


def test_a_quiet_half_year_draws_no_chart():
    assert charts.weekly_chart(make_weeks([0] * 26, [0] * 26)) is None
    assert charts.bar_chart([("Link", 0), ("Bounce", 0)]) is None


def test_horizontal_bars_are_proportional_and_labelled_with_their_values():
    chart = charts.bar_chart([("Link", 10), ("Bounce", 5), ("Admin", 0)])
    html = render_to_string(
        "admin/newsletter/_chart_bars.html",
        {"chart": chart, "chart_id": "t", "title": "Why", "description": "d",
         "fill_class": "rb-bar-lost", "fill": "#b9470b", "head": "Reason"},
    )  # fmt: skip
    svg = svg_of(html)

    drawn = bars(svg, "lost")
    assert [int(b.get("data-value")) for b in drawn] == [10, 5]  # no bar for a zero
    assert {b.get("fill") for b in drawn} == {"#b9470b"}
    assert float(drawn[0].get("width")) == pytest.approx(2 * float(drawn[1].get("width")))
    texts = [t.text for t in svg.iter("text")]
    assert texts == ["Link", "10", "Bounce", "5", "Admin", "0"]


def test_an_issues_deliveries_split_into_segments_of_proportional_width():
    row = IssueStats(issue=None, recipients=8, sent=4, failed=2, skipped=2, unfinished=0)

    segments = charts.delivery_segments(row, width=120)

    assert [(s.kind, s.width) for s in segments] == [("sent", 60), ("failed", 30), ("skipped", 30)]
    assert [s.x for s in segments] == [0, 60, 90]
