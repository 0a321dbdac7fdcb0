"""The patients' line on the home page: last month's answer times, once they mean something."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from duty.figures import HOME_LINE_MIN_QUESTIONS
from duty.models import Routing
from forum.models import Category

H = timedelta(hours=1)


@pytest.fixture
def last_month(question_factory):
    """``met`` of ``count`` colorectal questions of last month answered within 48 hours."""

    def make(count, met):
        first_of_month = timezone.localdate().replace(day=1)
        published = timezone.make_aware(
            timezone.datetime.combine(
                first_of_month - timedelta(days=10), timezone.datetime.min.time()
            )
        )
        category = Category.objects.get(slug="colorectal-cancer")
        for index in range(count):
            question = question_factory(category=category)
            Routing.objects.filter(question=question).update(
                published_at=published, first_answer_at=published + (2 if index < met else 60) * H
            )
        cache.clear()

    return make


def home_text(client) -> str:
    return client.get(reverse("home")).content.decode()


def test_visitors_read_last_months_share_within_the_target(client, last_month):
    last_month(HOME_LINE_MIN_QUESTIONS + 5, HOME_LINE_MIN_QUESTIONS + 4)
    # 24 of 25 is 96 %; rounded down, never promising more than was kept.
    assert "Physicians answered 96% of last month's questions within 48 hours." in home_text(client)


def test_the_line_is_in_chinese_for_chinese_readers(client, last_month):
    last_month(HOME_LINE_MIN_QUESTIONS, HOME_LINE_MIN_QUESTIONS - 1)
    client.cookies["django_language"] = "zh-hans"
    assert "上个月的问题，医生在 48 小时内回答了 95%。" in home_text(client)


def test_too_few_questions_say_nothing(client, last_month):
    last_month(HOME_LINE_MIN_QUESTIONS - 1, HOME_LINE_MIN_QUESTIONS - 1)
    assert 'data-testid="answer-line"' not in home_text(client)


def test_the_line_costs_the_home_page_no_query_once_cached(
    client, last_month, django_assert_max_num_queries
):
    last_month(HOME_LINE_MIN_QUESTIONS, HOME_LINE_MIN_QUESTIONS)
    home_text(client)
    with django_assert_max_num_queries(7):  # the home page's own, as before the line
        assert "100%" in home_text(client)
