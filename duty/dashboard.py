"""The department dashboard: answer times per tumour group, for physicians and moderators.

The charts are SVG drawn by the templates from the geometry computed here,
in a 300 by 180 viewBox that scales to the width of the page; every chart
has its figures in a table beside it.
"""

import math
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render

from duty.figures import HOME_LINE_MIN_QUESTIONS, GroupFigures, department_figures
from duty.selectors import sees_department

WIDTH, HEIGHT = 300, 180
LEFT, RIGHT, TOP, BOTTOM = 38, 6, 14, 22  # room for the axis labels
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
# Hours axis: at least a quarter above the target, at most three times it,
# so one slow week does not flatten the rest; taller bars are cut and marked.
HOURS_HEADROOM, HOURS_CEILING = 1.25, 3
MIN_BAR = 2  # viewBox units
HOUR_STEPS = (1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 96, 168, 336)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float | None
    is_cut: bool = False  # taller than the axis: drawn to the top and marked

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def label_y(self) -> float:
        """Where a value written above the bar sits."""
        return round(self.y - 3, 1)


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Slot:
    """One week's place on a chart: its bars and the label under them."""

    label_x: float
    label: str  # "10/12", then "19", "26", "11/2": the month only where it changes
    week: object
    bars: list[Bar]


@dataclass(frozen=True)
class Chart:
    slots: list[Slot]
    ticks: list[Tick]
    target_y: float | None = None

    @property
    def is_cut(self) -> bool:
        return any(bar.is_cut for slot in self.slots for bar in slot.bars)


def _labels(group: GroupFigures) -> list[str]:
    labels, month = [], None
    for week in group.weeks:
        start = week.start
        labels.append(f"{start.month}/{start.day}" if start.month != month else str(start.day))
        month = start.month
    return labels


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H * (1 - min(value, top) / top)


def _bar(x: float, width: float, value: float | None, top: float) -> Bar:
    if value is None:
        return Bar(x=x, y=TOP + PLOT_H, width=width, height=0, value=None)
    # A week answered within minutes still shows a sliver, not the gap of a week without data.
    y = min(_y(value, top), TOP + PLOT_H - MIN_BAR)
    return Bar(
        x=round(x, 1),
        y=round(y, 1),
        width=round(width, 1),
        height=round(TOP + PLOT_H - y, 1),
        value=value,
        is_cut=value > top,
    )


def hours_chart(group: GroupFigures) -> Chart:
    """Median and 90th-percentile bars per week, on an axis with the target marked."""
    target = group.target_hours or 1
    slowest = max((week.p90_hours or 0 for week in group.weeks), default=0)
    wanted = min(max(target * HOURS_HEADROOM, slowest), target * HOURS_CEILING)
    step = next((s for s in HOUR_STEPS if wanted / s <= 4), HOUR_STEPS[-1])
    top = step * math.ceil(wanted / step)
    slot = PLOT_W / len(group.weeks)
    bar = min(14, slot * 0.36)
    slots = []
    for index, (week, label) in enumerate(zip(group.weeks, _labels(group), strict=True)):
        middle = LEFT + slot * (index + 0.5)
        slots.append(
            Slot(
                label_x=round(middle, 1),
                label=label,
                week=week,
                bars=[
                    _bar(middle - bar - 1, bar, week.median_hours, top),
                    _bar(middle + 1, bar, week.p90_hours, top),
                ],
            )
        )
    ticks = [Tick(y=round(_y(v, top), 1), value=v) for v in range(0, top + 1, step)]
    return Chart(slots=slots, ticks=ticks, target_y=round(_y(target, top), 1))


def share_chart(group: GroupFigures) -> Chart:
    """The share answered within target per week, 0 to 100 %."""
    slot = PLOT_W / len(group.weeks)
    bar = min(20, slot * 0.6)
    slots = []
    for index, (week, label) in enumerate(zip(group.weeks, _labels(group), strict=True)):
        middle = LEFT + slot * (index + 0.5)
        share = None if week.share is None else week.share * 100
        bars = [_bar(middle - bar / 2, bar, share, 100)]
        slots.append(Slot(label_x=round(middle, 1), label=label, week=week, bars=bars))
    ticks = [Tick(y=round(_y(v, 100), 1), value=v) for v in (0, 50, 100)]
    return Chart(slots=slots, ticks=ticks)


def dashboard(request):
    """Answer times per tumour group; a 404 to anyone but physicians and moderators."""
    if not sees_department(request.user):
        raise Http404
    figures = department_figures()
    groups = [
        {"figures": group, "hours": hours_chart(group), "share": share_chart(group)}
        for group in figures.groups
    ]
    return render(
        request,
        "duty/dashboard.html",
        {
            "figures": figures,
            "groups": groups,
            "chart": {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT},
            "axis_y": TOP + PLOT_H,
            "label_y": HEIGHT - 6,
            "home_line_minimum": HOME_LINE_MIN_QUESTIONS,
        },
    )
