import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from duty.models import Routing
from forum import services
from forum.models import Category, Question

URL = reverse("duty:dashboard")
H = timedelta(hours=1)

# The six of duty.figures.department_figures, plus the signed-in page's own
# (the session comes from the cache once warm): its user, with the bell's unread
# count; physicians add one for their profile (are they verified?).
MODERATOR_QUERIES = 6 + 1
DOCTOR_QUERIES = MODERATOR_QUERIES + 1


@pytest.fixture
def routed(question_factory):
    def make(ago_hours, answered_after=None, **kwargs):
        question = question_factory(**kwargs)
        published = timezone.now() - ago_hours * H
        Routing.objects.filter(question=question).update(
            published_at=published,
            first_answer_at=None if answered_after is None else published + answered_after * H,
        )
        return question

    return make


@pytest.mark.parametrize("who", ["visitor", "patient", "unverified doctor"])
def test_dashboard_is_not_found_for_anyone_else(client, patient, pending_physician, who):
    if who == "patient":
        client.force_login(patient)
    elif who == "unverified doctor":
        client.force_login(pending_physician.user)
    assert client.get(URL).status_code == 404


@pytest.mark.parametrize("who", ["doctor", "moderator"])
def test_dashboard_is_open_to_physicians_and_moderators(client, doctor, moderator, who):
    client.force_login(doctor if who == "doctor" else moderator)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.templates[0].name == "duty/dashboard.html"


@pytest.mark.parametrize("n_questions", [1, 30])
@pytest.mark.parametrize("who", ["doctor", "moderator"])
def test_dashboard_query_count_is_flat(
    client, routed, doctor, moderator, doctor_factory, who, n_questions, django_assert_num_queries
):
    physicians = [doctor_factory() for _ in range(3 if n_questions > 1 else 1)]
    general = Category.objects.get(slug="living-with-cancer")
    for index in range(n_questions):
        routed(index * 13 + 1, index % 60 if index % 4 else None)
        services.answer_create(
            question=routed(index + 1, category=general),
            author=physicians[index % len(physicians)],
            body="Rest, fluids, and tell your oncologist.",
        )
    client.force_login(doctor if who == "doctor" else moderator)
    client.get(URL)  # warm the session
    expected = DOCTOR_QUERIES if who == "doctor" else MODERATOR_QUERIES
    with django_assert_num_queries(expected):
        response = client.get(URL)
    assert response.status_code == 200


def test_dashboard_shows_the_figures(client, routed, moderator, doctor_factory):
    # Colorectal this week or last: answered in 2, 6 and 60 hours, one waiting
    # 50 hours (past the 48-hour target) and one waiting 3 hours.
    for ago, after in ((100, 2), (90, 6), (80, 60)):
        routed(ago, after)
    late = routed(50, title="Is numbness after oxaliplatin normal?")
    routed(3, title="Can I eat grapefruit on capecitabine?")
    zhou = doctor_factory(name="Dr. Zhou")
    services.answer_create(
        question=routed(200, 1, category=Category.objects.get(slug="living-with-cancer")),
        author=zhou,
        body="Please tell your oncologist today.",
    )
    client.force_login(moderator)
    response = client.get(URL)
    figures = response.context["figures"]
    colorectal = next(g for g in figures.groups if g.category_slug == "colorectal-cancer")
    # 5 asked; answered in 2, 6, 60 h: median rank 2 → 6 h, p90 rank 3 → 60 h;
    # met 2, missed 2 (60 h, and the one waiting 50 h), one undecided: 2 of 4.
    assert (colorectal.period.asked, colorectal.period.median_hours) == (5, 6)
    assert colorectal.period.p90_hours == 60
    assert (colorectal.period.met, colorectal.period.decided) == (2, 4)
    content = response.content.decode()
    assert "50% answered within target." in content
    assert "Median 6.0 h, 90th percentile 60.0 h." in content
    assert "Waiting now: 2 questions" in content
    assert "1 past the target" in content
    assert late.title in content
    assert late.get_absolute_url() in content
    assert "<svg" in content and "<desc" in content and "<table" in content
    assert 'style="' not in content  # CSP: no inline styles in the charts
    assert "Dr. Zhou" in content
    # Too few questions last month for the patients' line.
    assert "no answer-time figure yet" in content


def test_dashboard_speaks_chinese(client, routed, moderator):
    routed(5, 1)
    client.force_login(moderator)
    response = client.get(URL, headers={"accept-language": "zh-hans"})
    assert response.status_code == 200


def test_waiting_list_links_to_the_rest(client, routed, moderator, monkeypatch):
    from duty import figures

    monkeypatch.setattr(figures, "WAITING_SHOWN", 1)
    routed(5)
    routed(6)
    client.force_login(moderator)
    content = client.get(URL).content.decode()
    assert "See all 2 waiting questions" in content
    assert "?category=colorectal-cancer&amp;status=unanswered" in content


def test_deleted_questions_are_not_on_the_dashboard(client, routed, moderator):
    gone = routed(5, title="A question its author deleted")
    Question.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    client.force_login(moderator)
    content = client.get(URL).content.decode()
    assert "A question its author deleted" not in content


def test_a_week_answered_within_minutes_still_shows_its_bars(client, routed, doctor):
    routed(1, 0.01, category=Category.objects.get(slug="colorectal-cancer"))
    client.force_login(doctor)
    html = client.get(URL).content.decode()
    heights = [
        float(h)
        for h in re.findall(
            r'class="chart-bar chart-bar-(?:median|p90)[^"]*"[^>]*height="([0-9.]+)"', html
        )
    ]
    assert heights and min(heights) >= 2
