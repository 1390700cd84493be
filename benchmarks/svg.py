"""Two small chart kinds as plain SVG, so the report needs no plotting library."""

from xml.sax.saxutils import escape

COLOURS = ["#888888", "#1a73e8", "#e8710a", "#188038", "#a142f4"]
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 360, 70, 60, 40


def _frame(title, y_label, y_max, body):
    ticks = []
    for step in range(5):
        value = y_max * step / 4
        y = HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * step / 4
        ticks.append(
            f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="15">{escape(title)}</text>'
        f'<text x="14" y="{HEIGHT / 2}" transform="rotate(-90 14 {HEIGHT / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>' + "".join(ticks) + body + "</svg>\n"
    )


def bar_chart(title, y_label, groups, series):
    """groups: labels on the x axis; series: [(name, [value or None per group])]."""
    values = [value for _, row in series for value in row if value]
    y_max = max(values, default=1) * 1.1
    plot_height = HEIGHT - BOTTOM - TOP
    group_width = (WIDTH - LEFT - 20) / max(len(groups), 1)
    bar_width = group_width * 0.8 / max(len(series), 1)
    parts = []
    for g, group in enumerate(groups):
        x0 = LEFT + g * group_width + group_width * 0.1
        parts.append(
            f'<text x="{x0 + group_width * 0.4:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(group)}</text>'
        )
        for s, (_, row) in enumerate(series):
            value = row[g]
            if not value:
                continue
            height = plot_height * value / y_max
            x = x0 + s * bar_width
            y = HEIGHT - BOTTOM - height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width - 2:.1f}" '
                f'height="{height:.1f}" fill="{COLOURS[s % len(COLOURS)]}"/>'
                f'<text x="{x + bar_width / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="10">{value:,.0f}</text>'
            )
    parts.append(_legend([name for name, _ in series]))
    return _frame(title, y_label, y_max, "".join(parts))


def line_chart(title, y_label, x_label, lines):
    """lines: [(name, [(x, y), ...])]."""
    points = [point for _, line in lines for point in line]
    if not points:
        return _frame(title, y_label, 1, "")
    x_max = max(x for x, _ in points) or 1
    y_max = max(y for _, y in points) * 1.1 or 1
    plot_width, plot_height = WIDTH - LEFT - 20, HEIGHT - BOTTOM - TOP
    parts = [
        f'<text x="{LEFT + plot_width / 2}" y="{HEIGHT - BOTTOM + 32}" '
        f'text-anchor="middle">{escape(x_label)} (0 to {x_max:,.0f})</text>'
    ]
    for index, (_, line) in enumerate(lines):
        path = " ".join(
            f"{LEFT + plot_width * x / x_max:.1f},{HEIGHT - BOTTOM - plot_height * y / y_max:.1f}"
            for x, y in line
        )
        parts.append(
            f'<polyline fill="none" stroke="{COLOURS[(index + 1) % len(COLOURS)]}" '
            f'stroke-width="2" points="{path}"/>'
        )
    parts.append(_legend([name for name, _ in lines], offset=1))
    return _frame(title, y_label, y_max, "".join(parts))


def _legend(names, offset=0):
    items = []
    for index, name in enumerate(names):
        x = LEFT + index * 170
        colour = COLOURS[(index + offset) % len(COLOURS)]
        items.append(
            f'<rect x="{x}" y="{HEIGHT - 22}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{HEIGHT - 12}">{escape(name)}</text>'
        )
    return "".join(items)
