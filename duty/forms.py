"""The weekly roster's forms: the grid, copying last week, swapping two days, holidays.

Each form is built for one week and one person. Its fields cover only the
rows that person may change and only the seven days shown, so a posted cell
outside them (another group's row, a day of another week) is refused as an
error and nothing is written. A saved value is a value: posting the same
form twice writes nothing the second time.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from duty.models import Holiday, Shift, TumourGroup

CELL_PREFIX = "shift-"

# (group id, day) -> physician's user id, or None for nobody.
Changes = dict[tuple[int, date], int | None]


def cell_name(group_id: int, day: date) -> str:
    return f"{CELL_PREFIX}{group_id}-{day.isoformat()}"


def day_label(day: date) -> str:
    """``Monday, January 6`` or ``1月6日 星期一``: the weekday and the date."""
    # Translators: a date format (Django's date filter letters): weekday, month and day.
    return formats.date_format(day, gettext("l, F j"))


@dataclass(frozen=True)
class RosterWeek:
    """What every roster form of one request is built from.

    ``groups`` carry ``category.verified_physicians`` (prefetched profiles of
    the specialty's active verified physicians); ``shifts`` maps (group id,
    day) to the week's shifts; ``editable`` holds the ids of the groups the
    person may change.
    """

    days: list[date]
    groups: list[TumourGroup]
    shifts: dict[tuple[int, date], Shift]
    editable: frozenset[int]

    @property
    def editable_groups(self) -> list[TumourGroup]:
        return [group for group in self.groups if group.pk in self.editable]

    def physician_on(self, group_id: int, day: date) -> int | None:
        shift = self.shifts.get((group_id, day))
        return shift.physician_id if shift else None

    def day_choices(self) -> list[tuple[str, str]]:
        return [(day.isoformat(), day_label(day)) for day in self.days]


def allowed_physicians(group: TumourGroup) -> set[int]:
    return {profile.user_id for profile in group.category.verified_physicians}


def cells_set(*, changes: Changes, by) -> int:
    """Write the roster cells in ``changes`` (None empties a cell); returns how many.

    Two statements whatever the number of cells: one delete, one upsert on
    the (group, day) constraint, inside one transaction.
    """
    if not changes:
        return 0
    with transaction.atomic():
        empty = [key for key, physician_id in changes.items() if physician_id is None]
        if empty:
            where = Q()
            for group_id, day in empty:
                where |= Q(group_id=group_id, day=day)
            Shift.objects.filter(where).delete()
        filled = [
            Shift(group_id=group_id, day=day, physician_id=physician_id, set_by=by)
            for (group_id, day), physician_id in changes.items()
            if physician_id is not None
        ]
        if filled:
            Shift.objects.bulk_create(
                filled,
                update_conflicts=True,
                unique_fields=["group", "day"],
                update_fields=["physician", "set_by", "updated_at"],
            )
    return len(changes)


class RosterForm(forms.Form):
    """One select per editable cell: the specialty's verified physicians, or nobody.

    Each select carries the value the person saw (a hidden ``initial-``
    field), so only the cells they changed are written: a colleague's change
    to another cell since the page was loaded stands.
    """

    def __init__(self, data=None, *, week: RosterWeek):
        super().__init__(data)
        self.week = week
        self.cells: dict[str, tuple[TumourGroup, date]] = {}
        for group in week.editable_groups:
            physicians = [
                (str(profile.user_id), profile.user.name)
                for profile in group.category.verified_physicians
            ]
            allowed = allowed_physicians(group)
            for day in week.days:
                current = week.physician_on(group.pk, day)
                choices = [("", gettext("Nobody")), *physicians]
                if current is not None and current not in allowed:
                    # Still on the roster, no longer a verified physician of the
                    # group: shown as it is, so saving the week does not empty it.
                    name = week.shifts[(group.pk, day)].physician.name
                    choices.append(
                        (
                            str(current),
                            gettext("%(name)s (not a verified physician of this group)")
                            % {"name": name},
                        )
                    )
                name = cell_name(group.pk, day)
                self.fields[name] = forms.ChoiceField(
                    label=gettext("%(group)s, %(day)s")
                    % {"group": group.category.label, "day": day_label(day)},
                    choices=choices,
                    required=False,
                    initial="" if current is None else str(current),
                    show_hidden_initial=True,
                    error_messages={
                        "invalid_choice": _(
                            "Choose one of this group’s verified physicians, or nobody."
                        )
                    },
                )
                self.cells[name] = (group, day)

    def clean(self):
        stray = [key for key in self.data if key.startswith(CELL_PREFIX) and key not in self.fields]
        if stray:
            raise ValidationError(
                _(
                    "Some of the days sent are not yours to change or are not in this week. "
                    "Nothing was saved."
                ),
                code="stray_cell",
            )
        return super().clean()

    def _person_changed(self, name: str) -> bool:
        seen_key = self[name].html_initial_name
        if seen_key not in self.data:
            return True
        return self.data.get(seen_key) != self.cleaned_data[name]

    def save(self, *, by) -> int:
        """Write the cells the person changed that differ from the roster; returns how many."""
        changes: Changes = {}
        for name, (group, day) in self.cells.items():
            if not self._person_changed(name):
                continue
            value = self.cleaned_data[name]
            physician_id = int(value) if value else None
            if physician_id != self.week.physician_on(group.pk, day):
                changes[(group.pk, day)] = physician_id
        return cells_set(changes=changes, by=by)


class CopyWeekForm(forms.Form):
    """Replace the editable rows of this week with last week's roster, empty days included."""

    def __init__(self, data=None, *, week: RosterWeek):
        super().__init__(data)
        self.week = week
        self.skipped = 0

    def save(self, *, by) -> int:
        """Copy last week into this week; returns how many cells changed.

        A physician of last week who is no longer a verified physician of the
        group is not copied: that day is left empty and counted in ``skipped``.
        """
        week = self.week
        groups = week.editable_groups
        last_week = {
            (shift.group_id, shift.day + timedelta(days=7)): shift.physician_id
            for shift in Shift.objects.filter(
                group__in=[group.pk for group in groups],
                day__range=(week.days[0] - timedelta(days=7), week.days[-1] - timedelta(days=7)),
            )
        }
        changes: Changes = {}
        for group in groups:
            allowed = allowed_physicians(group)
            for day in week.days:
                physician_id = last_week.get((group.pk, day))
                if physician_id is not None and physician_id not in allowed:
                    self.skipped += 1
                    physician_id = None
                if physician_id != week.physician_on(group.pk, day):
                    changes[(group.pk, day)] = physician_id
        return cells_set(changes=changes, by=by)


class WeekDayField(forms.TypedChoiceField):
    def __init__(self, *, week: RosterWeek, **kwargs):
        super().__init__(
            choices=week.day_choices(),
            coerce=date.fromisoformat,
            error_messages={"invalid_choice": _("Choose a day of the week shown.")},
            **kwargs,
        )


class SwapForm(forms.Form):
    """Exchange the physicians of two days of the shown week within one group."""

    prefix = "swap"

    def __init__(self, data=None, *, week: RosterWeek):
        super().__init__(data)
        self.week = week
        self.fields["group"] = forms.TypedChoiceField(
            label=_("Tumour group"),
            choices=[(str(group.pk), group.category.label) for group in week.editable_groups],
            coerce=int,
            error_messages={"invalid_choice": _("Choose a group whose roster you may change.")},
        )
        self.fields["day_a"] = WeekDayField(week=week, label=_("First day"))
        self.fields["day_b"] = WeekDayField(week=week, label=_("Second day"))

    def clean(self):
        data = super().clean()
        if data.get("day_a") and data.get("day_a") == data.get("day_b"):
            self.add_error("day_b", _("Choose two different days."))
        return data

    @property
    def group_label(self) -> str:
        return dict(self.fields["group"].choices)[str(self.cleaned_data["group"])]

    def save(self, *, by) -> int:
        group_id, day_a, day_b = (self.cleaned_data[key] for key in ("group", "day_a", "day_b"))
        on_a = self.week.physician_on(group_id, day_a)
        on_b = self.week.physician_on(group_id, day_b)
        if on_a == on_b:
            return 0
        return cells_set(changes={(group_id, day_a): on_b, (group_id, day_b): on_a}, by=by)


class HolidayForm(forms.Form):
    """Mark a day of the shown week as a department holiday, or unmark it (moderators)."""

    prefix = "holiday"

    name = forms.CharField(
        label=_("Name of the holiday (optional)"),
        max_length=Holiday._meta.get_field("name").max_length,
        required=False,
    )

    def __init__(self, data=None, *, week: RosterWeek):
        super().__init__(data)
        self.fields["day"] = WeekDayField(week=week, label=_("Day"))
        self.order_fields(["day", "name"])

    def save(self, *, mark: bool) -> None:
        day = self.cleaned_data["day"]
        if mark:
            Holiday.objects.update_or_create(
                day=day, defaults={"name": self.cleaned_data["name"].strip()}
            )
        else:
            Holiday.objects.filter(day=day).delete()
