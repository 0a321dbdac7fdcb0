"""The weekly duty roster: who answers each tumour group's questions on each day.

Verified physicians and moderators see it; everyone else gets the site's
404, as if it did not exist. Moderators change every row, a group's lead
changes that group's row, and only moderators mark holidays.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Prefetch
from django.forms import BoundField
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.models import PhysicianProfile, user_is_verified_doctor
from duty.forms import (
    CopyWeekForm,
    HolidayForm,
    RosterForm,
    RosterWeek,
    SwapForm,
    cell_name,
    day_label,
)
from duty.models import Holiday, Shift, TumourGroup
from duty.selectors import sees_department
from duty.services import department_day

# ``?week=`` is any day of the week, written YYYY-MM-DD in ASCII digits, within these years.
WEEK_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


@dataclass(frozen=True)
class Cell:
    day: date
    shift: Shift | None
    holiday: Holiday | None
    field: BoundField | None

    @property
    def physician(self):
        return self.shift.physician if self.shift else None

    @property
    def counts(self) -> bool:
        """Whether the rostered physician is told of new questions (``duty.services.on_duty``)."""
        physician = self.physician
        return (
            physician is not None
            and self.holiday is None
            and physician.is_active
            and not physician.is_suspended
            and user_is_verified_doctor(physician)
        )


@dataclass(frozen=True)
class Row:
    group: TumourGroup
    editable: bool
    cells: list[Cell]


@dataclass(frozen=True)
class Column:
    day: date
    holiday: Holiday | None
    is_today: bool


def _week_days(value: str | None, today: date) -> list[date] | None:
    """The Monday-to-Sunday week holding ``value`` (default: today's); None if unreadable."""
    if value is None or value == "":
        day = today
    else:
        if not WEEK_PATTERN.fullmatch(value):
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        if not FIRST_DAY <= day <= LAST_DAY:
            return None
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=offset) for offset in range(7)]


def _roster_week(user, days: list[date]) -> RosterWeek:
    """The groups with their specialists, and the week's shifts: three queries."""
    physicians = (
        PhysicianProfile.objects.filter(
            status=PhysicianProfile.Status.VERIFIED, user__is_active=True
        )
        .select_related("user")
        .order_by("user__name", "user_id")
    )
    groups = list(
        TumourGroup.objects.select_related("category", "lead").prefetch_related(
            Prefetch("category__physicians", queryset=physicians, to_attr="verified_physicians")
        )
    )
    shifts = {
        (shift.group_id, shift.day): shift
        for shift in Shift.objects.filter(day__range=(days[0], days[-1])).select_related(
            "physician__physician_profile"
        )
    }
    editable = frozenset(
        group.pk for group in groups if user.is_moderator or group.lead_id == user.pk
    )
    return RosterWeek(days=days, groups=groups, shifts=shifts, editable=editable)


def _week_url(monday: date) -> str:
    return f"{reverse('duty:roster')}?week={monday.isoformat()}"


def _rows(week: RosterWeek, holidays: dict[date, Holiday], form: RosterForm) -> list[Row]:
    rows = []
    for group in week.groups:
        cells = []
        for day in week.days:
            name = cell_name(group.pk, day)
            cells.append(
                Cell(
                    day=day,
                    shift=week.shifts.get((group.pk, day)),
                    holiday=holidays.get(day),
                    field=form[name] if name in form.fields else None,
                )
            )
        rows.append(Row(group=group, editable=group.pk in week.editable, cells=cells))
    return rows


EDIT_ACTIONS = {"save", "copy", "swap"}
HOLIDAY_ACTIONS = {"holiday-mark", "holiday-unmark"}


def _post(request, week: RosterWeek, forms: dict) -> str | None:
    """Run the posted action; returns the success message, or None when a form has errors."""
    action = request.POST.get("action")
    if action not in EDIT_ACTIONS | HOLIDAY_ACTIONS:
        raise BadRequest("unknown roster action")
    if action in EDIT_ACTIONS and not week.editable:
        raise PermissionDenied(_("Only moderators and a group’s lead can change the roster."))
    if action in HOLIDAY_ACTIONS and not request.user.is_moderator:
        raise PermissionDenied(_("Only moderators can mark holidays."))

    if action == "save":
        form = forms["roster"] = RosterForm(request.POST, week=week)
        if not form.is_valid():
            return None
        form.save(by=request.user)
        return _("Roster saved.")
    if action == "copy":
        form = CopyWeekForm(request.POST, week=week)
        form.save(by=request.user)
        message = _("This week now has last week’s roster.")
        if form.skipped:
            message += " " + ngettext(
                "%(count)s day was left empty: last week’s physician is no longer a verified "
                "physician of that group.",
                "%(count)s days were left empty: last week’s physician is no longer a verified "
                "physician of that group.",
                form.skipped,
            ) % {"count": form.skipped}
        return message
    if action == "swap":
        form = forms["swap"] = SwapForm(request.POST, week=week)
        if not form.is_valid():
            return None
        form.save(by=request.user)
        return _("Swapped %(first)s and %(second)s for %(group)s.") % {
            "first": day_label(form.cleaned_data["day_a"]),
            "second": day_label(form.cleaned_data["day_b"]),
            "group": form.group_label,
        }
    form = forms["holiday"] = HolidayForm(request.POST, week=week)
    if not form.is_valid():
        return None
    mark = action == "holiday-mark"
    form.save(mark=mark)
    day = day_label(form.cleaned_data["day"])
    if mark:
        return _("%(day)s is a department holiday.") % {"day": day}
    return _("%(day)s is no longer a department holiday.") % {"day": day}


@require_http_methods(["GET", "POST"])
def roster(request):
    user = request.user
    if not sees_department(user):
        raise Http404
    today = department_day()
    days = _week_days(request.GET.get("week"), today)
    if days is None:
        return render(
            request,
            "duty/roster.html",
            {"bad_week": True, "first_year": FIRST_DAY.year, "last_year": LAST_DAY.year},
            status=400,
        )
    week = _roster_week(user, days)
    forms = {
        "roster": RosterForm(week=week),
        "swap": SwapForm(week=week),
        "holiday": HolidayForm(week=week),
    }
    if request.method == "POST":
        done = _post(request, week, forms)
        if done is not None:
            messages.success(request, done)
            return redirect(_week_url(days[0]))

    holidays = {
        holiday.day: holiday for holiday in Holiday.objects.filter(day__range=(days[0], days[-1]))
    }
    this_monday = today - timedelta(days=today.weekday())
    return render(
        request,
        "duty/roster.html",
        {
            "week": week,
            "columns": [
                Column(day=day, holiday=holidays.get(day), is_today=day == today) for day in days
            ],
            "rows": _rows(week, holidays, forms["roster"]),
            "form": forms["roster"],
            "swap_form": forms["swap"],
            "holiday_form": forms["holiday"],
            "can_edit": bool(week.editable),
            "can_edit_all": len(week.editable) == len(week.groups),
            "led_groups": [group for group in week.editable_groups if not user.is_moderator],
            "is_moderator": user.is_moderator,
            "is_this_week": days[0] == this_monday,
            "week_start": formats.date_format(days[0], "DATE_FORMAT"),
            "week_end": formats.date_format(days[-1], "DATE_FORMAT"),
            "week_value": days[0].isoformat(),
            # A neighbouring week is linked by a day of it that ``?week=`` accepts.
            "previous_url": (
                _week_url(max(days[0] - timedelta(days=7), FIRST_DAY))
                if days[0] > FIRST_DAY
                else None
            ),
            "next_url": _week_url(days[0] + timedelta(days=7)) if days[-1] < LAST_DAY else None,
            "this_week_url": reverse("duty:roster"),
            "previous_start": formats.date_format(days[0] - timedelta(days=7), "DATE_FORMAT"),
        },
    )
