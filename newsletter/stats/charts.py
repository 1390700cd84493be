"""Geometry of the statistics charts, drawn as inline SVG by the templates.

The page may not use inline style (strict CSP), so everything is placed with SVG
presentation attributes (x, y, width, height, fill); colours for light and dark mode
come from classes in static/css/stats.css, with the fill attribute as the fallback.
All lengths are in viewBox units; the SVG scales to the width of the page.
"""

from dataclasses import dataclass

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

# Colour-blind-safe pair (blue up, orange down) with at least 4.5:1 against white;
# stats.css swaps in lighter tones on a dark background.
GAINED_FILL = "#1d6fb8"
LOST_FILL = "#b9470b"
NEUTRAL_FILL = "#4f6475"
SPARK_WIDTH = 96  # the stacked bar of one send in the table of issues


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str  # what a tooltip says about this bar


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


def _round(value):
    return round(value, 2)


@dataclass(frozen=True)
class WeeklyChart:
    """Diverging bars per week: readers gained above the zero line, readers lost below.

    Both directions share one scale, so a bar's height is proportional to its value and
    a week that lost as many as it gained shows two bars of the same length.
    """

    gained: list
    lost: list
    x_labels: list
    y_labels: list
    zero_y: float
    plot_left: float
    plot_right: float
    width: int = 720
    height: int = 260
    gained_fill: str = GAINED_FILL
    lost_fill: str = LOST_FILL


def weekly_chart(weeks, width=720, height=260):
    """Lay out `weeks` (stats.Week) as a WeeklyChart; None when nothing happened."""
    left, right, top, bottom = 56, 8, 14, 34
    max_gained = max((week.gained for week in weeks), default=0)
    max_lost = max((week.lost for week in weeks), default=0)
    if not max_gained and not max_lost:
        return None
    unit = (height - top - bottom) / (max_gained + max_lost)
    zero_y = top + max_gained * unit
    slot = (width - left - right) / len(weeks)
    bar_width = slot * 0.7
    gained, lost, x_labels = [], [], []
    for index, week in enumerate(weeks):
        x = left + index * slot + (slot - bar_width) / 2
        day = date_format(week.starts_on, "j M")
        gained.append(
            Bar(_round(x), _round(zero_y - week.gained * unit), _round(bar_width),
                _round(week.gained * unit), week.gained,
                _("Week of %(day)s: %(count)s gained") % {"day": day, "count": week.gained})
        )  # fmt: skip
        lost.append(
            Bar(_round(x), _round(zero_y), _round(bar_width), _round(week.lost * unit),
                week.lost, _("Week of %(day)s: %(count)s lost") % {"day": day, "count": week.lost})
        )  # fmt: skip
        if (len(weeks) - 1 - index) % 4 == 0:  # every fourth week, ending on this one
            x_labels.append(Label(_round(x + bar_width / 2), height - 12, day))
    y_labels = [Label(left - 6, _round(zero_y + 4), "0")]
    if max_gained:
        y_labels.append(Label(left - 6, top + 4, f"+{number_format(max_gained)}"))
    if max_lost:
        y_labels.append(Label(left - 6, height - bottom, f"−{number_format(max_lost)}"))
    return WeeklyChart(
        gained, lost, x_labels, y_labels, _round(zero_y), left, width - right, width, height
    )


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one row per category, all on one scale."""

    rows: list  # of (Label, Bar, Label): the category, its bar, its value
    width: int
    height: int

    @property
    def bars(self):
        return [bar for _label, bar, _value in self.rows]


def bar_chart(items, width=420, label_width=160, row_height=30):
    """Lay out (label, value) pairs as a BarChart; None when every value is zero."""
    items = list(items)
    largest = max((value for _label, value in items), default=0)
    if not largest:
        return None
    value_space = 48
    unit = (width - label_width - value_space) / largest
    rows = []
    for index, (label, value) in enumerate(items):
        y = index * row_height
        bar = Bar(label_width, y + 6, _round(value * unit), row_height - 12, value,
                  f"{label}: {number_format(value)}")  # fmt: skip
        rows.append(
            (
                Label(label_width - 10, y + row_height / 2 + 5, str(label)),
                bar,
                Label(_round(label_width + value * unit + 8), y + row_height / 2 + 5,
                      number_format(value)),
            )
        )  # fmt: skip
    return BarChart(rows, width, row_height * len(items))


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    kind: str  # sent, failed, skipped, unfinished: the CSS class names the colour


def delivery_segments(issue_stats, width=SPARK_WIDTH):
    """One issue's deliveries as a stacked bar: sent, failed, skipped, unfinished."""
    total = issue_stats.recipients
    if not total:
        return []
    segments, x = [], 0.0
    for kind in ("sent", "failed", "skipped", "unfinished"):
        value = getattr(issue_stats, kind)
        if value:
            segments.append(Segment(_round(x), _round(value * width / total), kind))
            x += value * width / total
    return segments
