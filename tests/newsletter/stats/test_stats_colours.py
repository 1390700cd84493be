"""The chart colours stand out from the page in light and in dark mode (WCAG 1.4.11)."""

import re
from pathlib import Path

import pytest

from newsletter.stats import charts

CSS = (Path(__file__).resolve().parents[3] / "static" / "css" / "stats.css").read_text()
LIGHT_PAGE, DARK_PAGE = "#ffffff", "#121212"  # the admin's --body-bg in its two themes
# Graphical objects need 3:1 against what is next to them.
MINIMUM = 3.0


def luminance(hex_colour):
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first, second):
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def palette(block_selector):
    """The --rb-* colours set in the first CSS block whose selector ends as given."""
    block = re.search(re.escape(block_selector) + r"\s*\{(.*?)\}", CSS, re.S).group(1)
    return dict(re.findall(r"--rb-([a-z]+):\s*(#[0-9a-fA-F]{6})", block))


LIGHT = palette(".rb-stats")
DARK = palette('html[data-theme="dark"] .rb-stats')


def test_both_themes_set_the_same_colours():
    assert set(LIGHT) == set(DARK) >= {"gained", "lost", "neutral", "failed", "axis"}


@pytest.mark.parametrize("name", sorted(LIGHT))
def test_each_chart_colour_has_enough_contrast_with_the_page(name):
    assert contrast(LIGHT[name], LIGHT_PAGE) >= MINIMUM, LIGHT[name]
    assert contrast(DARK[name], DARK_PAGE) >= MINIMUM, DARK[name]


def test_the_fallback_fills_in_the_svg_are_the_light_colours():
    assert LIGHT["gained"] == charts.GAINED_FILL
    assert LIGHT["lost"] == charts.LOST_FILL
    assert LIGHT["neutral"] == charts.NEUTRAL_FILL


def test_the_dark_theme_follows_the_system_setting_too():
    system_dark = re.search(r"prefers-color-scheme: dark\)\s*\{(.*?)\}\s*\}", CSS, re.S).group(1)
    assert dict(re.findall(r"--rb-([a-z]+):\s*(#[0-9a-fA-F]{6})", system_dark)) == DARK
