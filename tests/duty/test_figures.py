"""duty.figures against data counted by hand.

The clock is fixed at Wednesday 11 March 2026, 12:00 in Shanghai. With
``weeks=3`` the period is the weeks of Monday 23 February, 2 March and
9 March (the running one), from 23 February 00:00 Shanghai time.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from duty import figures
from duty.figures import department_figures, last_month_share, nearest_rank
from duty.models import Routing, TumourGroup
from forum import services
from forum.models import Answer, Category, PostState, Question

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=SHANGHAI)
H = timedelta(hours=1)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def routed(question_factory):
    """A question whose routing started at ``published`` and was answered after ``hours``."""

    def make(published, hours=None, *, category="colorectal-cancer", **kwargs):
        question = question_factory(category=Category.objects.get(slug=category), **kwargs)
        Routing.objects.filter(question=question).update(
            published_at=published,
            first_answer_at=None if hours is None else published + hours * H,
        )
        return question

    return make


@pytest.fixture
def department(routed, doctor):
    """Two groups' questions around the week boundaries; see the counts in each test."""
    TumourGroup.objects.filter(category__slug="gastric-cancer").update(target_hours=24)
    q = {}
    # Colorectal, target 48 h.
    q[1] = routed(at(1, 23, 59), 2)  # Sunday 23:59: week of 23 Feb; met in 2 h
    q[2] = routed(at(2, 0, 1), 1)  # Monday 00:01: week of 2 Mar; met in 1 h
    q[3] = routed(at(3, 10), 10)  # met
    q[4] = routed(at(4, 10), 30)  # met
    q[5] = routed(at(5, 10), 60)  # late
    q[6] = routed(at(6, 10))  # unanswered, 122 h: overdue
    q[7] = routed(at(9, 8), 48)  # exactly 48 h: met (the target is inclusive)
    q[8] = routed(at(10, 12))  # unanswered, 24 h: not yet decided
    # Not counted anywhere: deleted, hidden, an unanswered duplicate, no group.
    Question.objects.filter(pk=routed(at(10, 9)).pk).update(deleted_at=NOW)
    Question.objects.filter(pk=routed(at(10, 10)).pk).update(state=PostState.HIDDEN)
    Question.objects.filter(pk=routed(at(9, 10)).pk).update(duplicate_of=q[2])
    routed(at(4, 9), 100, category="living-with-cancer")
    routed(at(4, 9), category="living-with-cancer")
    # Gastric, target 24 h.
    q[21] = routed(at(2, 9), 30, category="gastric-cancer")  # late
    q[22] = routed(at(10, 20), category="gastric-cancer")  # unanswered, 16 h: not yet decided
    # Claims: q8's is 30 minutes old (active), q6's 5 hours (lapsed after 2 hours).
    Routing.objects.filter(question=q[8]).update(claimed_by=doctor, claimed_at=NOW - 0.5 * H)
    Routing.objects.filter(question=q[6]).update(claimed_by=doctor, claimed_at=NOW - 5 * H)
    return q


def by_label(result, slug):
    label = Category.objects.get(slug=slug).label
    return next(group for group in result.groups if group.label == label)


def test_nearest_rank_takes_the_ceil_of_p_times_n():
    # n = 4: median rank ceil(2) = 2, p90 rank ceil(3.6) = 4; n = 5: ranks 3 and 5;
    # n = 10: p90 rank exactly 9, not 10.
    assert nearest_rank([1, 10, 30, 60], 50) == 10
    assert nearest_rank([1, 10, 30, 60], 90) == 60
    assert nearest_rank([1, 2, 3, 4, 5], 50) == 3
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank([7], 90) == 7
    assert nearest_rank([], 50) is None


def test_weeks_start_on_monday_midnight_in_shanghai(department):
    result = department_figures(weeks=3, now=NOW)
    assert result.week_starts == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)]
    assert result.period_start == at(23, 0, month=2)
    weeks = by_label(result, "colorectal-cancer").weeks
    # Sunday 1 March 23:59 Shanghai (15:59 UTC) is the week of 23 February;
    # Monday 2 March 00:01 Shanghai (Sunday 16:01 UTC) is the next week.
    assert [week.asked for week in weeks] == [1, 5, 2]
    assert weeks[0].median_hours == 2
    assert [week.is_running for week in weeks] == [False, False, True]


def test_colorectal_weekly_figures(department):
    weeks = by_label(department_figures(weeks=3, now=NOW), "colorectal-cancer").weeks
    # Week of 2 March: q2..q6 asked (5); q2..q5 answered in 1, 10, 30, 60 h.
    # Median: rank ceil(4 × 0.5) = 2 → 10 h; p90: rank ceil(3.6) = 4 → 60 h.
    # Met q2, q3, q4 (3); late q5; overdue q6; share 3 / 5.
    week = weeks[1]
    assert (week.asked, week.answered, week.met, week.late, week.overdue, week.undecided) == (
        5,
        4,
        3,
        1,
        1,
        0,
    )
    assert (week.median_hours, week.p90_hours) == (10, 60)
    assert week.missed == 2
    assert week.share == pytest.approx(3 / 5)
    # Week of 9 March: q7 met at exactly 48 h, q8 within target so far;
    # the deleted, hidden and duplicate questions do not count. Share 1 / 1.
    week = weeks[2]
    assert (week.asked, week.answered, week.met, week.undecided, week.missed) == (2, 1, 1, 1, 0)
    assert (week.median_hours, week.p90_hours) == (48, 48)
    assert week.share == 1


def test_group_and_department_totals_for_the_period(department):
    result = department_figures(weeks=3, now=NOW)
    colorectal = by_label(result, "colorectal-cancer").period
    # 1 + 5 + 2 = 8 asked; times 1, 2, 10, 30, 48, 60: median rank 3 → 10,
    # p90 rank ceil(5.4) = 6 → 60. Met 1 + 3 + 1 = 5, missed q5 and q6: 5 / 7.
    assert (colorectal.asked, colorectal.answered, colorectal.decided) == (8, 6, 7)
    assert (colorectal.median_hours, colorectal.p90_hours) == (10, 60)
    assert colorectal.share == pytest.approx(5 / 7)
    gastric = by_label(result, "gastric-cancer")
    # Judged against their own 24 h: g21 answered in 30 h is late; g22 undecided.
    assert gastric.target_hours == 24
    assert [(w.asked, w.late, w.undecided) for w in gastric.weeks] == [
        (0, 0, 0),
        (1, 1, 0),
        (1, 0, 1),
    ]
    assert gastric.weeks[1].share == 0
    assert gastric.weeks[2].share is None
    # Department: 10 asked; times 1, 2, 10, 30, 30, 48, 60: median rank
    # ceil(3.5) = 4 → 30, p90 rank ceil(6.3) = 7 → 60. Met 5 of 8 decided.
    total = result.department
    assert (total.asked, total.answered, total.met, total.missed, total.undecided) == (
        10,
        7,
        5,
        3,
        2,
    )
    assert (total.median_hours, total.p90_hours) == (30, 60)
    assert total.share == pytest.approx(5 / 8)
    others = [g for g in result.groups if g.label not in {colorectal_label(), gastric.label}]
    assert all(g.period.asked == 0 and g.waiting_count == 0 for g in others)


def colorectal_label():
    return Category.objects.get(slug="colorectal-cancer").label


def test_waiting_lists_oldest_first_with_waiting_time(department, doctor):
    result = department_figures(weeks=3, now=NOW)
    colorectal = by_label(result, "colorectal-cancer")
    # q6 (since 6 March 10:00, 122 h, overdue) before q8 (since 10 March 12:00, 24 h).
    assert [item.question_id for item in colorectal.waiting] == [department[6].pk, department[8].pk]
    oldest, newest = colorectal.waiting
    assert (oldest.waited_hours, oldest.is_overdue, oldest.overdue_hours) == (122, True, 74)
    assert (newest.waited_hours, newest.is_overdue, newest.due_in_hours) == (24, False, 24)
    assert oldest.claimed_by == ""  # the claim lapsed
    assert newest.claimed_by == doctor.name
    assert oldest.url == department[6].get_absolute_url()
    assert (colorectal.waiting_count, colorectal.waiting_overdue) == (2, 1)
    gastric = by_label(result, "gastric-cancer")
    assert [item.question_id for item in gastric.waiting] == [department[22].pk]
    assert (result.waiting_count, result.waiting_overdue) == (3, 1)


def test_waiting_list_shows_the_oldest_and_counts_all(routed, monkeypatch):
    monkeypatch.setattr(figures, "WAITING_SHOWN", 2)
    questions = [routed(at(10, hour)) for hour in (9, 7, 8)]
    colorectal = by_label(department_figures(weeks=1, now=NOW), "colorectal-cancer")
    assert [item.question_id for item in colorectal.waiting] == [questions[1].pk, questions[2].pk]
    assert colorectal.waiting_count == 3


def test_physicians_answers_thanks_and_accepted_in_the_period(question_factory, doctor_factory):
    wang, li = doctor_factory(name="Dr. Wang"), doctor_factory(name="Dr. Li")

    def answer(author, *, when, thanks=0, accepted=False, deleted=False):
        question = question_factory()
        item = services.answer_create(
            question=question, author=author, body="Rest and fluids, please."
        )
        Answer.objects.filter(pk=item.pk).update(
            created_at=when, thanks_count=thanks, deleted_at=NOW if deleted else None
        )
        if accepted:
            Question.objects.filter(pk=question.pk).update(accepted_answer=item)

    answer(wang, when=at(3, 9), thanks=2, accepted=True)
    answer(wang, when=at(5, 9))
    answer(wang, when=at(10, 9), thanks=1)
    answer(li, when=at(9, 9), thanks=5)
    answer(li, when=at(20, 9, month=2), thanks=9, accepted=True)  # before the period
    answer(li, when=at(4, 9), thanks=4, accepted=True, deleted=True)  # deleted
    result = department_figures(weeks=2, now=NOW)  # from 2 March
    # Wang: 3 answers, 2 + 0 + 1 = 3 thanks, 1 accepted. Li: 1 answer, 5 thanks, none accepted.
    rows = [(p.name, p.answers, p.thanks, p.accepted) for p in result.physicians]
    assert rows == [("Dr. Wang", 3, 3, 1), ("Dr. Li", 1, 5, 0)]


@pytest.fixture
def february(routed):
    """22 decided questions of February 2026, one not yet decided, and March's first."""
    # Colorectal (48 h): 18 met, the first at 00:10 on 1 February; 2 late; 1 unanswered.
    routed(at(1, 0, 10, month=2), 5)
    for day in range(2, 19):
        routed(at(day, 10, month=2), day)  # 2..18 h: met
    routed(at(19, 10, month=2), 49)
    routed(at(20, 10, month=2), 100)
    routed(at(21, 10, month=2))  # overdue by 11 March
    # Gastric (24 h): 30 h misses its own target but meets the month's common 48 h.
    TumourGroup.objects.filter(category__slug="gastric-cancer").update(target_hours=24)
    routed(at(22, 10, month=2), 30, category="gastric-cancer")
    # Sunday 1 March 00:30 Shanghai is still 28 February in UTC: March, not counted.
    routed(at(1, 0, 30), 200)


def test_last_month_share_counts_the_calendar_month_against_the_common_target(february):
    # Decided: 18 + 2 + 1 colorectal + 1 gastric = 22. Within 48 h: 18 + 1 = 19.
    share, hours, count = last_month_share(now=NOW)
    assert (hours, count) == (48, 22)
    assert share == pytest.approx(19 / 22)
    line = department_figures(weeks=2, now=NOW).home_line
    assert (line.met, line.count, line.percent) == (19, 22, 86)  # 86.4 % rounded down


def test_last_month_share_leaves_undecided_questions_out(february):
    # On 2 March 12:00 the one unanswered question (21 Feb) is overdue, and a
    # question of 28 February 20:00 still within its 48 h is not counted.
    Routing.objects.filter(published_at=at(1, 0, 30)).update(
        published_at=at(28, 20, month=2), first_answer_at=None
    )
    share, hours, count = last_month_share(now=at(2, 12))
    assert (hours, count) == (48, 22)


def test_last_month_share_is_none_below_the_minimum(february):
    # Hide three: 19 decided, under HOME_LINE_MIN_QUESTIONS = 20.
    assert figures.HOME_LINE_MIN_QUESTIONS == 20
    hidden = Routing.objects.filter(published_at__month=2).values_list("question_id", flat=True)[:3]
    Question.objects.filter(pk__in=list(hidden)).update(state=PostState.HIDDEN)
    assert last_month_share(now=NOW) is None


def test_last_month_share_is_none_without_questions(db):
    assert last_month_share(now=NOW) is None
    assert last_month_share() is None


@pytest.mark.parametrize("extra", [0, 12])
def test_figures_take_six_queries_whatever_the_data(
    request, department, routed, extra, django_assert_num_queries
):
    if extra:
        request.getfixturevalue("february")  # and the home line has a month to count
    for index in range(extra):
        routed(NOW - (index * 7 + 3) * H, index if index % 2 else None)
    # groups, weekly counts, answer times, waiting lists, physicians, the home line
    with django_assert_num_queries(6):
        result = department_figures(weeks=8, now=NOW)
    assert (result.home_line is not None) == bool(extra)


def test_default_now_is_the_present(routed):
    routed(timezone.now() - 3 * H, 1)
    result = department_figures()
    assert len(result.week_starts) == 8
    assert result.department.asked == 1


def test_a_share_in_percent_is_rounded_down_never_up_to_a_full_promise():
    cohort = figures.Cohort(
        asked=200,
        answered=200,
        met=199,
        late=1,
        overdue=0,
        undecided=0,
        median_hours=2.0,
        p90_hours=9.0,
    )
    assert (cohort.percent, round(cohort.share * 100)) == (99, 100)
    assert figures.Cohort(0, 0, 0, 0, 0, 0, None, None).percent is None
