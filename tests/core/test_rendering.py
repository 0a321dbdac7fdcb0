"""Shortcuts that lists print with: the same output as the long way round."""

import datetime
import zoneinfo

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from core.reversing import reverse_kept


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2026, 3, 1, 23, 30, 5, tzinfo=datetime.UTC),
        datetime.datetime(2026, 12, 6, 8, 0, 0, 123456, tzinfo=datetime.UTC),
    ],
)
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "UTC"])
def test_time_element_prints_what_the_date_filters_print(moment, zone):
    long_way = Template(
        """<time datetime="{{ when|date:'c' }}">{{ when|date:"Y-m-d H:i" }}</time>"""
    )
    short = Template("{% load time_zones %}{% time_element when %}")
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        expected = long_way.render(Context({"when": moment}))
        assert short.render(Context({"when": moment})) == expected
        # As the filters do, it leaves the moment in UTC inside {% localtime off %}.
        off = "{% load tz time_zones %}{% localtime off %}X{% endlocaltime %}"
        assert Template(off.replace("X", "{% time_element when %}")).render(
            Context({"when": moment})
        ) == Template(off.replace("X", long_way.source)).render(Context({"when": moment}))
    assert Template("{% load time_zones %}{% time_element when %}").render(Context({})) == ""


def test_kept_urls_are_reverses_and_follow_the_script_prefix():
    assert reverse_kept("forum:tag-detail", "diet") == reverse("forum:tag-detail", args=["diet"])
    assert reverse_kept("forum:question-detail", 7, "胃癌") == reverse(
        "forum:question-detail", args=[7, "胃癌"]
    )
    set_script_prefix("/salon/")
    try:
        assert reverse_kept("forum:tag-detail", "diet") == "/salon/tags/diet/"
    finally:
        set_script_prefix("/")
    assert reverse_kept("forum:tag-detail", "diet") == "/tags/diet/"
