"""The department's figures: how fast physicians answer, per tumour group and week.

Every figure on the dashboard and the patients' home line is read here, from
``Routing`` rows, with these definitions (the dashboard's notes repeat them):

- **Which questions count.** Questions routed to a tumour group that are still
  public (published, not deleted). A duplicate a physician pointed to an
  earlier answer without answering it is left out: it was handled, not
  missed. Questions outside the tumour groups carry no promise and are not
  counted.
- **Weeks** run Monday 00:00 to Monday 00:00 in the department's time zone
  (``settings.SHUKANG_DEPARTMENT_TIME_ZONE``, Asia/Shanghai). A question
  belongs to the week its clock started in (``Routing.published_at``); the
  period is the last ``weeks`` weeks, the running one included.
- **Time to first answer** is ``first_answer_at - published_at`` for the
  questions of the week that a verified physician has answered.
- **Percentiles are nearest-rank.** Of n times in ascending order, the p-th
  percentile is the k-th with k = ceil(p * n / 100); the median is the 50th,
  so with an even count it is the lower of the two middle times, a time that
  some question really waited, never an average of two.
- **Within target.** Each question is judged against the target it was given
  when published (``Routing.target_hours``). Answered within it: met.
  Answered later, or still unanswered after it: missed. Unanswered and still
  within it: not yet decided, and left out of the share. The share is met /
  (met + missed), so a week still running is not marked down for questions
  whose clock has not run out.
- **Physicians.** For the period: answers published (not deleted), thanks
  received on those answers (their ``thanks_count``), and how many of them
  their askers accepted.
- **The patients' line** (``last_month_share``) counts last calendar month's
  questions the same way, against one target for all, the most common one
  among them, so "within 48 hours" is literally true of every question it
  counts. Shown only with at least ``HOME_LINE_MIN_QUESTIONS`` decided questions.

The queries do not grow with the data: one for the groups, one aggregate of
counts per group and week, one list of answer times (the percentiles are taken
in Python from it), one for the waiting lists, one for the physicians and one
for last month's line.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, RowNumber
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.urls import reverse
from django.utils import timezone

from duty.models import Routing, TumourGroup
from duty.services import claim_lapse, department_zone
from forum.models import Answer, PostState, Question

# Fewer decided questions than this last month and the home page says nothing:
# a share of a handful of questions would promise more than it knows.
HOME_LINE_MIN_QUESTIONS = 20
# How many of each group's waiting questions the dashboard lists, oldest first.
WAITING_SHOWN = 10

HOUR = timedelta(hours=1)
COUNTS = ("asked", "answered", "met", "late", "overdue", "undecided")


@dataclass(frozen=True)
class Cohort:
    """Questions whose clock started in one span, and how fast they were answered."""

    asked: int
    answered: int
    met: int  # answered within target
    late: int  # answered after the target
    overdue: int  # unanswered, target passed
    undecided: int  # unanswered, target not yet passed
    median_hours: float | None  # of the answered ones; nearest-rank
    p90_hours: float | None

    @property
    def missed(self) -> int:
        return self.late + self.overdue

    @property
    def decided(self) -> int:
        return self.met + self.missed

    @property
    def share(self) -> float | None:
        """Met / decided, from 0 to 1; None while nothing is decided."""
        return self.met / self.decided if self.decided else None

    @property
    def percent(self) -> int | None:
        """The share in whole percent, rounded down: 199 of 200 is 99 %, never 100 %."""
        return self.met * 100 // self.decided if self.decided else None


@dataclass(frozen=True)
class WeekFigures(Cohort):
    start: date  # the Monday, department calendar
    is_running: bool  # the current week, still filling


@dataclass(frozen=True)
class WaitingQuestion:
    question_id: int
    title: str
    url: str
    published_at: datetime
    waited_hours: float
    target_hours: int
    is_overdue: bool
    claimed_by: str  # the physician answering it, "" when nobody has claimed it

    @property
    def due_in_hours(self) -> float:
        """Hours left before the target; negative once overdue."""
        return self.target_hours - self.waited_hours

    @property
    def overdue_hours(self) -> float:
        return max(0.0, self.waited_hours - self.target_hours)

    @property
    def waited_days(self) -> int:
        return int(self.waited_hours // 24)

    @property
    def overdue_days(self) -> int:
        return int(self.overdue_hours // 24)


@dataclass(frozen=True)
class GroupFigures:
    group_id: int
    label: str
    category_slug: str
    target_hours: int
    weeks: list[WeekFigures]  # oldest first, one per week of the period
    period: Cohort  # the whole period
    waiting: list[WaitingQuestion]  # the oldest WAITING_SHOWN
    waiting_count: int  # all waiting now
    waiting_overdue: int  # of which past their target


@dataclass(frozen=True)
class PhysicianFigures:
    physician_id: int
    name: str
    answers: int
    thanks: int
    accepted: int


@dataclass(frozen=True)
class HomeLine:
    met: int
    count: int  # decided questions the share is of
    target_hours: int

    @property
    def share(self) -> float:
        return self.met / self.count

    @property
    def percent(self) -> int:
        """Rounded down: 199 of 200 is 99 %, never a promise of 100 %."""
        return self.met * 100 // self.count


@dataclass(frozen=True)
class DepartmentFigures:
    now: datetime
    period_start: datetime  # Monday 00:00 of the first week, department time zone
    week_starts: list[date]
    groups: list[GroupFigures]
    department: Cohort  # every group, the whole period
    physicians: list[PhysicianFigures]  # most answers first
    waiting_count: int
    waiting_overdue: int
    home_line: HomeLine | None


def _counted() -> QuerySet[Routing]:
    """Routed questions that count: still public; unanswered duplicates were handled.

    Written as "not among the few excluded questions" rather than as a join
    with the question table: the excluded ones are found through the
    question indexes and hashed once, so a year of routings is counted
    without reading every question (a join made PostgreSQL scan the whole,
    wide question table for each query).
    """
    others = [state for state in PostState.values if state != PostState.PUBLISHED]
    not_public = Question.objects.filter(
        Q(state__in=others) | Q(state=PostState.PUBLISHED, deleted_at__isnull=False)
    ).values("pk")
    duplicates = Question.objects.filter(duplicate_of__isnull=False).values("pk")
    return (
        Routing.objects.filter(group__isnull=False)
        .exclude(question_id__in=not_public)
        .exclude(first_answer_at__isnull=True, question_id__in=duplicates)
    )


def _waited():
    return ExpressionWrapper(F("first_answer_at") - F("published_at"), output_field=DurationField())


def _own_target():
    # Cast: SQLite multiplies durations only by plain integer columns.
    return ExpressionWrapper(
        Cast("target_hours", IntegerField()) * Value(HOUR), output_field=DurationField()
    )


def _since(now: datetime):
    return ExpressionWrapper(
        Value(now, output_field=DateTimeField()) - F("published_at"), output_field=DurationField()
    )


def _cohort_counts(target, now: datetime) -> dict:
    """Count aggregates for a cohort, each question judged against ``target``."""
    answered = Q(first_answer_at__isnull=False)
    waiting = Q(first_answer_at__isnull=True)
    since = _since(now)
    return {
        "asked": Count("pk"),
        "answered": Count("pk", filter=answered),
        "met": Count("pk", filter=answered & Q(LessThanOrEqual(_waited(), target))),
        "late": Count("pk", filter=answered & Q(GreaterThan(_waited(), target))),
        "overdue": Count("pk", filter=waiting & Q(GreaterThan(since, target))),
        "undecided": Count("pk", filter=waiting & Q(LessThanOrEqual(since, target))),
    }


def nearest_rank(ordered: list[float], percent: int) -> float | None:
    """The nearest-rank percentile of values in ascending order: the ceil(p·n/100)-th."""
    if not ordered:
        return None
    rank = -(-percent * len(ordered) // 100)  # ceil in integers: no rounding error
    return ordered[max(1, rank) - 1]


def _cohort(counts: dict | None, hours: list[float], **extra):
    counts = counts or {}
    hours = sorted(hours)
    fields = {name: counts.get(name, 0) for name in COUNTS}
    fields.update(median_hours=nearest_rank(hours, 50), p90_hours=nearest_rank(hours, 90))
    if extra:
        return WeekFigures(**fields, **extra)
    return Cohort(**fields)


def _week_of(moment: datetime) -> date:
    return timezone.localtime(moment, department_zone()).date()


def _monday(moment: datetime) -> date:
    day = _week_of(moment)
    return day - timedelta(days=day.weekday())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=department_zone())


def _week_number(mondays: list[datetime]):
    """0 for a clock started before the first of ``mondays``, 1 before the second, and so on."""
    return Case(
        *(When(published_at__lt=monday, then=Value(n)) for n, monday in enumerate(mondays)),
        default=Value(len(mondays)),
        output_field=IntegerField(),
    )


def _waiting(now: datetime) -> tuple[dict[int, list[WaitingQuestion]], dict[int, tuple[int, int]]]:
    """Each group's oldest unanswered questions, how many wait and how many are overdue.

    One query: window functions number and count the rows of each group.
    """
    overdue = Case(When(GreaterThan(_since(now), _own_target()), then=1), default=0)
    rows = (
        _counted()
        .filter(first_answer_at__isnull=True, published_at__lte=now)
        .annotate(
            place=Window(RowNumber(), partition_by=F("group_id"), order_by=F("published_at").asc()),
            in_group=Window(Count("pk"), partition_by=F("group_id")),
            overdue_in_group=Window(Sum(overdue), partition_by=F("group_id")),
        )
        .filter(place__lte=WAITING_SHOWN)
        .order_by("group_id", "published_at")
        .values_list(
            "group_id",
            "in_group",
            "overdue_in_group",
            "question_id",
            "question__title",
            "question__slug",
            "published_at",
            "target_hours",
            "claimed_by__name",
            "claimed_at",
        )
    )
    lists: dict[int, list[WaitingQuestion]] = defaultdict(list)
    counts: dict[int, tuple[int, int]] = {}
    lapse = claim_lapse()
    for row in rows:
        group_id, in_group, overdue_count, pk, title, slug, published, target, claimer, claimed = (
            row
        )
        counts[group_id] = (in_group, overdue_count)
        waited = (now - published) / HOUR
        lists[group_id].append(
            WaitingQuestion(
                question_id=pk,
                title=title,
                url=reverse("forum:question-detail", args=[pk, slug or "q"]),
                published_at=published,
                waited_hours=waited,
                target_hours=target,
                is_overdue=waited > target,
                claimed_by=claimer if claimer and claimed and claimed > now - lapse else "",
            )
        )
    return lists, counts


def _physicians(start: datetime, now: datetime) -> list[PhysicianFigures]:
    rows = (
        Answer.objects.published()
        .filter(created_at__gte=start, created_at__lte=now)
        .values("author_id", "author__name")
        .annotate(
            answers=Count("pk"),
            thanks=Sum("thanks_count"),
            # Through the accepted answer's unique index, not a join with every
            # question; "not null" lets PostgreSQL hash only the accepted answers
            # (a third of the questions) rather than the whole index.
            accepted=Count(
                "pk",
                filter=Q(
                    Exists(
                        Question.objects.filter(
                            accepted_answer__isnull=False, accepted_answer=OuterRef("pk")
                        )
                    )
                ),
            ),
        )
        .order_by("-answers", "author__name", "author_id")
    )
    return [
        PhysicianFigures(
            physician_id=row["author_id"],
            name=row["author__name"],
            answers=row["answers"],
            thanks=row["thanks"] or 0,
            accepted=row["accepted"],
        )
        for row in rows
    ]


def home_line(now: datetime) -> HomeLine | None:
    """Last calendar month's line for patients, or None below the minimum; one query."""
    first_of_month = _week_of(now).replace(day=1)
    start = _midnight((first_of_month - timedelta(days=1)).replace(day=1))
    last_month = _counted().filter(
        published_at__gte=start, published_at__lt=_midnight(first_of_month)
    )
    # The month's most common target, the smaller on a tie; a subquery, so
    # the line is one query whether or not last month had questions.
    common = Subquery(
        last_month.values("target_hours")
        .annotate(n=Count("pk"))
        .order_by("-n", "target_hours")
        .values("target_hours")[:1]
    )
    target = ExpressionWrapper(
        Cast(common, IntegerField()) * Value(HOUR), output_field=DurationField()
    )
    # One comparison with the common target per question, so the database
    # finds that target once (each comparison written out is another scan of
    # the month): the time to the first answer, or waited so far, within it?
    # With whether it was answered, that tells met, late, overdue, undecided.
    elapsed = ExpressionWrapper(
        Coalesce("first_answer_at", Value(now, output_field=DateTimeField())) - F("published_at"),
        output_field=DurationField(),
    )
    rows = (
        last_month.values(
            "target_hours",
            answered=ExpressionWrapper(
                Q(first_answer_at__isnull=False), output_field=BooleanField()
            ),
            in_time=LessThanOrEqual(elapsed, target),
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    per_target: dict[int, int] = defaultdict(int)
    counts: dict[tuple[bool, bool], int] = defaultdict(int)
    for row in rows:
        per_target[row["target_hours"]] += row["n"]
        counts[bool(row["answered"]), bool(row["in_time"])] += row["n"]
    if not per_target:
        return None
    # The same choice as the subquery's, from the same rows.
    common_target = min(per_target, key=lambda hours: (-per_target[hours], hours))
    met, late, overdue = counts[True, True], counts[True, False], counts[False, False]
    decided = met + late + overdue
    if decided < HOME_LINE_MIN_QUESTIONS:
        return None
    return HomeLine(met=met, count=decided, target_hours=common_target)


def last_month_share(now: datetime | None = None) -> tuple[float, int, int] | None:
    """(share within target, target hours, questions counted) for last calendar month.

    "Physicians answered 92% of last month's questions within 48 hours": the
    share is of last month's decided questions, each judged against the
    month's most common target. None with fewer than HOME_LINE_MIN_QUESTIONS.
    One query.
    """
    line = home_line(now or timezone.now())
    return None if line is None else (line.share, line.target_hours, line.count)


def department_figures(*, weeks: int = 8, now: datetime | None = None) -> DepartmentFigures:
    """The dashboard's figures for the last ``weeks`` weeks; six queries whatever the data."""
    now = now or timezone.now()
    this_monday = _monday(now)
    week_starts = [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    period_start = _midnight(week_starts[0])
    groups = list(TumourGroup.objects.select_related("category"))

    in_period = _counted().filter(published_at__gte=period_start, published_at__lte=now)
    # Each row's week is found in the database by comparing its clock's start
    # with the Mondays' midnights (in the department's time zone, passed as
    # instants): a number from 0, the first week, which is cheaper than
    # truncating every row to its week in the database's time zone arithmetic
    # or loading every row's timestamp into Python to bucket it here.
    week = _week_number([_midnight(start) for start in week_starts[1:]])
    counts = {
        (row["group_id"], week_starts[row["week"]]): row
        for row in in_period.annotate(week=week)
        .values("group_id", "week")
        .annotate(**_cohort_counts(_own_target(), now))
        .order_by()
    }
    hours: dict[tuple[int, date], list[float]] = defaultdict(list)
    for group_id, number, waited in (
        in_period.filter(first_answer_at__isnull=False)
        .annotate(week=week, waited=_waited())
        .values_list("group_id", "week", "waited")
        .order_by()
    ):
        hours[group_id, week_starts[number]].append(waited.total_seconds() / 3600)

    waiting, waiting_counts = _waiting(now)
    all_counts: dict[str, int] = defaultdict(int)
    all_hours: list[float] = []
    group_figures = []
    for group in groups:
        group_counts: dict[str, int] = defaultdict(int)
        group_hours: list[float] = []
        week_figures = []
        for start in week_starts:
            row = counts.get((group.pk, start))
            times = hours.get((group.pk, start), [])
            week_figures.append(_cohort(row, times, start=start, is_running=start == this_monday))
            for name in COUNTS if row else ():
                group_counts[name] += row[name]
                all_counts[name] += row[name]
            group_hours.extend(times)
        all_hours.extend(group_hours)
        group_figures.append(
            GroupFigures(
                group_id=group.pk,
                label=group.category.label,
                category_slug=group.category.slug,
                target_hours=group.target_hours,
                weeks=week_figures,
                period=_cohort(group_counts, group_hours),
                waiting=waiting.get(group.pk, []),
                waiting_count=waiting_counts.get(group.pk, (0, 0))[0],
                waiting_overdue=waiting_counts.get(group.pk, (0, 0))[1],
            )
        )
    return DepartmentFigures(
        now=now,
        period_start=period_start,
        week_starts=week_starts,
        groups=group_figures,
        department=_cohort(all_counts, all_hours),
        physicians=_physicians(period_start, now),
        waiting_count=sum(count for count, _overdue in waiting_counts.values()),
        waiting_overdue=sum(overdue for _count, overdue in waiting_counts.values()),
        home_line=home_line(now),
    )
