from datetime import date, timedelta

import pytest
from django.urls import reverse

from accounts.models import PhysicianProfile
from duty.models import Holiday, Shift, TumourGroup
from duty.services import department_day, on_duty
from forum.models import Category

URL = reverse("duty:roster")
MONDAY = date(2025, 3, 3)
WEEK = [MONDAY + timedelta(days=offset) for offset in range(7)]
WEEK_URL = f"{URL}?week={MONDAY.isoformat()}"

# The signed-in page's own (the session comes from the cache once warm): the
# user, with the bell's unread count; then the groups with their categories and
# leads, the specialists of every group (one prefetch), the week's shifts and
# its holidays. Physicians add one for their profile (are they verified?).
MODERATOR_QUERIES = 1 + 4
DOCTOR_QUERIES = MODERATOR_QUERIES + 1


def cell(group, day):
    return f"shift-{group.pk}-{day.isoformat()}"


def shift_of(group, day):
    return Shift.objects.filter(group=group, day=day).values_list("physician_id", flat=True).first()


def grid(changes, seen=None):
    """A save of the grid: ``changes`` maps (group, day) to a physician (or None)."""
    data = {"action": "save"}
    for (group, day), physician in changes.items():
        data[cell(group, day)] = (
            "" if physician is None else str(getattr(physician, "pk", physician))
        )
        if seen is not None:
            before = seen.get((group, day))
            data[f"initial-{cell(group, day)}"] = "" if before is None else str(before.pk)
    return data


@pytest.fixture
def group(category):
    return TumourGroup.objects.select_related("category").get(category=category)


@pytest.fixture
def other_group():
    return TumourGroup.objects.get(category__slug="gastric-cancer")


@pytest.fixture
def specialist(doctor_factory, category):
    return doctor_factory(name="Dr. Chen", specialties=[category])


@pytest.fixture
def colleague(doctor_factory, category):
    return doctor_factory(name="Dr. Zhou", specialties=[category])


@pytest.fixture
def lead(doctor_factory, category, group):
    physician = doctor_factory(name="Dr. Lead", specialties=[category])
    group.lead = physician
    group.save()
    return physician


# Who may see it, who may change what


@pytest.mark.parametrize("who", ["visitor", "patient", "unverified physician"])
def test_roster_is_not_found_for_anyone_else(client, patient, pending_physician, who):
    if who == "patient":
        client.force_login(patient)
    elif who == "unverified physician":
        client.force_login(pending_physician.user)
    assert client.get(URL).status_code == 404
    assert client.post(WEEK_URL, {"action": "save"}).status_code == 404


def test_physician_sees_the_roster_without_selects(client, doctor, group, specialist):
    Shift.objects.create(group=group, day=MONDAY, physician=specialist)
    client.force_login(doctor)
    response = client.get(WEEK_URL)
    assert response.status_code == 200
    assert not response.context["form"].fields
    html = response.content.decode()
    assert '<select name="shift-' not in html
    assert "Dr. Chen" in html
    assert "Only moderators and each group’s lead can change the roster." in html


def test_physician_who_does_not_lead_cannot_post_changes(client, doctor, group, specialist):
    client.force_login(doctor)
    for data in (
        grid({(group, MONDAY): specialist}),
        {"action": "copy"},
        {"action": "swap", "swap-group": group.pk},
    ):
        assert client.post(WEEK_URL, data).status_code == 403
    assert not Shift.objects.exists()


def test_lead_edits_only_their_own_row(client, lead, group, other_group):
    client.force_login(lead)
    response = client.get(WEEK_URL)
    fields = response.context["form"].fields
    assert set(fields) == {cell(group, day) for day in WEEK}
    assert "You lead Colorectal cancer: you can change its row." in response.content.decode()


def test_lead_cannot_save_another_groups_row(client, lead, group, other_group, doctor_factory):
    gastric = doctor_factory(specialties=[other_group.category])
    client.force_login(lead)
    data = grid({(group, MONDAY): lead, (other_group, MONDAY): gastric})
    response = client.post(WEEK_URL, data)
    assert response.status_code == 200
    assert "Some of the days sent are not yours to change" in response.content.decode()
    assert not Shift.objects.exists()


def test_lead_cannot_mark_holidays(client, lead):
    client.force_login(lead)
    data = {"action": "holiday-mark", "holiday-day": MONDAY.isoformat()}
    assert client.post(WEEK_URL, data).status_code == 403
    assert not Holiday.objects.exists()


def test_moderator_edits_every_row(client, moderator):
    client.force_login(moderator)
    fields = client.get(WEEK_URL).context["form"].fields
    assert len(fields) == TumourGroup.objects.count() * 7


# Saving the week


def test_saving_writes_the_cells_and_who_set_them(client, moderator, group, specialist, colleague):
    client.force_login(moderator)
    response = client.post(
        WEEK_URL, grid({(group, WEEK[0]): specialist, (group, WEEK[2]): colleague}, seen={})
    )
    assert response.status_code == 302
    assert response.url == WEEK_URL
    assert shift_of(group, WEEK[0]) == specialist.pk
    assert shift_of(group, WEEK[2]) == colleague.pk
    assert set(Shift.objects.values_list("set_by", flat=True)) == {moderator.pk}
    page = client.get(response.url).content.decode()
    assert "Roster saved." in page


def test_choosing_nobody_empties_the_day(client, moderator, group, specialist):
    Shift.objects.create(group=group, day=MONDAY, physician=specialist)
    client.force_login(moderator)
    client.post(WEEK_URL, grid({(group, MONDAY): None}, seen={(group, MONDAY): specialist}))
    assert not Shift.objects.exists()


def test_only_the_cells_the_person_changed_are_written(
    client, moderator, group, specialist, colleague, user_factory
):
    """A colleague's change since the page was loaded stands; an unchanged cell keeps its setter."""
    setter = user_factory()
    tuesday = Shift.objects.create(group=group, day=WEEK[1], physician=specialist, set_by=setter)
    # Loaded with Wednesday empty; a colleague has since put Dr. Zhou there.
    Shift.objects.create(group=group, day=WEEK[2], physician=colleague, set_by=setter)
    client.force_login(moderator)
    client.post(
        WEEK_URL,
        grid(
            {(group, WEEK[0]): colleague, (group, WEEK[1]): specialist, (group, WEEK[2]): None},
            seen={(group, WEEK[1]): specialist},
        ),
    )
    assert shift_of(group, WEEK[0]) == colleague.pk
    unchanged = Shift.objects.get(pk=tuesday.pk)
    assert (unchanged.set_by_id, unchanged.updated_at) == (setter.pk, tuesday.updated_at)
    assert shift_of(group, WEEK[2]) == colleague.pk


def test_saving_twice_changes_nothing_more(client, moderator, group, specialist):
    client.force_login(moderator)
    data = grid({(group, MONDAY): specialist}, seen={})
    client.post(WEEK_URL, data)
    first = Shift.objects.get()
    assert client.post(WEEK_URL, data).status_code == 302
    again = Shift.objects.get()
    assert (again.pk, again.updated_at) == (first.pk, first.updated_at)


def test_one_physician_may_cover_several_groups(
    client, moderator, group, other_group, doctor_factory, category
):
    both = doctor_factory(specialties=[category, other_group.category])
    client.force_login(moderator)
    client.post(WEEK_URL, grid({(group, MONDAY): both, (other_group, MONDAY): both}))
    assert Shift.objects.filter(physician=both, day=MONDAY).count() == 2


@pytest.mark.parametrize(
    "value", ["patient", "other specialty", "unverified", "abc", "99999999999999999999999", "-1"]
)
def test_a_value_that_is_not_an_allowed_physician_saves_nothing(
    client, moderator, group, specialist, patient, doctor_factory, pending_physician, value
):
    pending_physician.specialties.add(group.category)
    chosen = {
        "patient": patient.pk,
        "other specialty": doctor_factory(specialties=[Category.objects.get(slug="gist")]).pk,
        "unverified": pending_physician.user_id,
    }.get(value, value)
    client.force_login(moderator)
    response = client.post(WEEK_URL, grid({(group, WEEK[0]): specialist, (group, WEEK[1]): chosen}))
    assert response.status_code == 200
    assert not Shift.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == [cell(group, WEEK[1])]
    html = response.content.decode()
    assert "Choose one of this group’s verified physicians, or nobody." in html
    assert 'aria-invalid="true"' in html
    # The person's other choice is kept on the page.
    assert f'<option value="{specialist.pk}" selected>' in html


def test_a_day_outside_the_week_saves_nothing(client, moderator, group, specialist):
    client.force_login(moderator)
    data = grid({(group, MONDAY): specialist, (group, MONDAY + timedelta(days=7)): specialist})
    response = client.post(WEEK_URL, data)
    assert response.status_code == 200
    assert "Nothing was saved." in response.content.decode()
    assert not Shift.objects.exists()


def test_a_physician_no_longer_verified_stays_until_changed(
    client, moderator, group, specialist, colleague
):
    Shift.objects.create(group=group, day=WEEK[0], physician=specialist)
    PhysicianProfile.objects.filter(user=specialist).update(status=PhysicianProfile.Status.REFUSED)
    client.force_login(moderator)
    html = client.get(WEEK_URL).content.decode()
    assert "Dr. Chen (not a verified physician of this group)" in html
    assert "Not on duty: this physician cannot answer now" in html
    client.post(
        WEEK_URL,
        grid(
            {(group, WEEK[0]): specialist, (group, WEEK[1]): colleague},
            seen={(group, WEEK[0]): specialist},
        ),
    )
    assert shift_of(group, WEEK[0]) == specialist.pk
    assert shift_of(group, WEEK[1]) == colleague.pk


# Copying last week, swapping two days


def test_copy_replaces_this_week_with_last_weeks_roster(
    client, lead, group, other_group, specialist, colleague, doctor_factory
):
    gastric = doctor_factory(specialties=[other_group.category])
    Shift.objects.create(group=group, day=WEEK[0] - timedelta(days=7), physician=specialist)
    Shift.objects.create(group=group, day=WEEK[1] - timedelta(days=7), physician=colleague)
    Shift.objects.create(group=group, day=WEEK[0], physician=colleague)
    Shift.objects.create(group=group, day=WEEK[2], physician=colleague)
    # Not the lead's row: untouched by their copy.
    Shift.objects.create(group=other_group, day=WEEK[3], physician=gastric)
    client.force_login(lead)
    response = client.post(WEEK_URL, {"action": "copy"}, follow=True)
    assert "This week now has last week’s roster." in response.content.decode()
    assert shift_of(group, WEEK[0]) == specialist.pk
    assert shift_of(group, WEEK[1]) == colleague.pk
    assert shift_of(group, WEEK[2]) is None
    assert shift_of(other_group, WEEK[3]) == gastric.pk
    assert set(
        Shift.objects.filter(group=group, day__gte=MONDAY).values_list("set_by", flat=True)
    ) == {lead.pk}


def test_copy_leaves_empty_the_days_of_a_physician_no_longer_verified(
    client, moderator, group, specialist
):
    Shift.objects.create(group=group, day=WEEK[0] - timedelta(days=7), physician=specialist)
    PhysicianProfile.objects.filter(user=specialist).update(status=PhysicianProfile.Status.PENDING)
    client.force_login(moderator)
    response = client.post(WEEK_URL, {"action": "copy"}, follow=True)
    assert "1 day was left empty" in response.content.decode()
    assert shift_of(group, WEEK[0]) is None


def test_copy_twice_changes_nothing_more(client, moderator, group, specialist):
    Shift.objects.create(group=group, day=WEEK[0] - timedelta(days=7), physician=specialist)
    client.force_login(moderator)
    client.post(WEEK_URL, {"action": "copy"})
    first = Shift.objects.get(day=WEEK[0])
    client.post(WEEK_URL, {"action": "copy"})
    assert Shift.objects.get(day=WEEK[0]).updated_at == first.updated_at


def swap(group, day_a, day_b):
    return {
        "action": "swap",
        "swap-group": str(group.pk),
        "swap-day_a": day_a.isoformat(),
        "swap-day_b": day_b.isoformat(),
    }


def test_swap_exchanges_the_physicians_of_two_days(client, lead, group, specialist, colleague):
    Shift.objects.create(group=group, day=WEEK[0], physician=specialist)
    Shift.objects.create(group=group, day=WEEK[2], physician=colleague)
    client.force_login(lead)
    response = client.post(WEEK_URL, swap(group, WEEK[0], WEEK[2]), follow=True)
    assert "Swapped Monday, March 3 and Wednesday, March 5 for Colorectal cancer." in (
        response.content.decode()
    )
    assert shift_of(group, WEEK[0]) == colleague.pk
    assert shift_of(group, WEEK[2]) == specialist.pk


def test_swap_with_an_empty_day_moves_the_physician(client, moderator, group, specialist):
    Shift.objects.create(group=group, day=WEEK[4], physician=specialist)
    client.force_login(moderator)
    client.post(WEEK_URL, swap(group, WEEK[4], WEEK[6]))
    assert shift_of(group, WEEK[4]) is None
    assert shift_of(group, WEEK[6]) == specialist.pk


@pytest.mark.parametrize(
    ("day_a", "day_b", "error"),
    [
        (WEEK[1], WEEK[1], "Choose two different days."),
        (WEEK[1], WEEK[1] + timedelta(days=7), "Choose a day of the week shown."),
    ],
)
def test_swap_refuses_odd_days(client, moderator, group, specialist, day_a, day_b, error):
    Shift.objects.create(group=group, day=WEEK[1], physician=specialist)
    client.force_login(moderator)
    response = client.post(WEEK_URL, swap(group, day_a, day_b))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert shift_of(group, WEEK[1]) == specialist.pk


def test_lead_cannot_swap_another_groups_days(client, lead, other_group, doctor_factory):
    gastric = doctor_factory(specialties=[other_group.category])
    Shift.objects.create(group=other_group, day=WEEK[0], physician=gastric)
    client.force_login(lead)
    response = client.post(WEEK_URL, swap(other_group, WEEK[0], WEEK[1]))
    assert "Choose a group whose roster you may change." in response.content.decode()
    assert shift_of(other_group, WEEK[0]) == gastric.pk


# Holidays


def test_moderator_marks_and_unmarks_a_holiday(client, moderator, group, specialist):
    Shift.objects.create(group=group, day=WEEK[2], physician=specialist)
    client.force_login(moderator)
    data = {
        "action": "holiday-mark",
        "holiday-day": WEEK[2].isoformat(),
        "holiday-name": "Qingming",
    }
    response = client.post(WEEK_URL, data, follow=True)
    html = response.content.decode()
    assert "Wednesday, March 5 is a department holiday." in html
    assert "Holiday: Qingming" in html
    assert Holiday.objects.get().name == "Qingming"
    # On a holiday nobody is on duty: the whole specialty hears of new questions.
    assert on_duty(group, WEEK[2]) is None

    client.post(WEEK_URL, {**data, "action": "holiday-unmark"})
    assert not Holiday.objects.exists()
    assert on_duty(group, WEEK[2]) == specialist


def test_marking_a_holiday_twice_keeps_one(client, moderator):
    client.force_login(moderator)
    data = {"action": "holiday-mark", "holiday-day": MONDAY.isoformat(), "holiday-name": ""}
    client.post(WEEK_URL, data)
    client.post(WEEK_URL, data)
    assert Holiday.objects.count() == 1


def test_a_holiday_outside_the_week_is_refused(client, moderator):
    client.force_login(moderator)
    data = {"action": "holiday-mark", "holiday-day": "2031-01-01"}
    response = client.post(WEEK_URL, data)
    assert "Choose a day of the week shown." in response.content.decode()
    assert not Holiday.objects.exists()


def test_the_page_says_who_is_told_on_a_holiday(client, doctor):
    client.force_login(doctor)
    html = client.get(URL).content.decode()
    assert "every verified physician of the specialty is told instead" in html


# Weeks and hostile input


def test_default_week_is_the_departments_current_week(client, doctor):
    client.force_login(doctor)
    response = client.get(URL)
    today = department_day()
    assert response.context["week"].days[0] == today - timedelta(days=today.weekday())
    assert 'aria-current="date"' in response.content.decode()


def test_any_day_shows_its_week_with_links_to_the_next_and_previous(client, doctor):
    client.force_login(doctor)
    response = client.get(f"{URL}?week=2025-03-06")
    assert response.context["week"].days == WEEK
    assert response.context["previous_url"] == f"{URL}?week=2025-02-24"
    assert response.context["next_url"] == f"{URL}?week=2025-03-10"


@pytest.mark.parametrize(
    "week",
    ["garbage", "99999-01-01", "2025-02-30", "1999-06-01", "2100-01-04", "٢٠٢٥-٠٣-٠٣", "20250303"],
)
def test_a_week_that_cannot_be_read_is_a_clear_400(client, moderator, week):
    client.force_login(moderator)
    for response in (client.get(URL, {"week": week}), client.post(f"{URL}?week={week}", {})):
        assert response.status_code == 400
        assert "We cannot show that week" in response.content.decode()


def test_the_first_and_last_weeks_have_no_link_beyond(client, moderator):
    client.force_login(moderator)
    first = client.get(f"{URL}?week=2000-01-01").context
    assert first["previous_url"] is None
    assert client.get(f"{URL}?week=2000-01-03").context["previous_url"] == f"{URL}?week=2000-01-01"
    assert client.get(f"{URL}?week=2099-12-31").context["next_url"] is None


def test_an_unknown_action_is_a_400(client, moderator):
    client.force_login(moderator)
    assert client.post(WEEK_URL, {"action": "drop tables"}).status_code == 400
    assert client.post(WEEK_URL, {}).status_code == 400


def test_other_methods_are_refused(client, moderator):
    client.force_login(moderator)
    assert client.put(WEEK_URL).status_code == 405


def test_the_page_renders_in_chinese(client, moderator, group, specialist):
    Shift.objects.create(group=group, day=MONDAY, physician=specialist)
    client.force_login(moderator)
    response = client.get(WEEK_URL, headers={"accept-language": "zh-hans"})
    assert response.status_code == 200
    assert "结直肠" in response.content.decode() or group.category.name_zh == ""


# Query counts


@pytest.fixture
def filled_week(doctor_factory, moderator):
    """Every group staffed: ``n`` specialists each, a shift every day, holidays."""

    def fill(n_physicians, n_holidays):
        groups = list(TumourGroup.objects.select_related("category"))
        for group in groups:
            physicians = [doctor_factory(specialties=[group.category]) for _ in range(n_physicians)]
            days = WEEK if n_physicians > 1 else WEEK[:1]
            for index, day in enumerate(days):
                Shift.objects.create(
                    group=group,
                    day=day,
                    physician=physicians[index % n_physicians],
                    set_by=moderator,
                )
        for day in WEEK[:n_holidays]:
            Holiday.objects.create(day=day, name="Holiday")

    return fill


@pytest.mark.parametrize(("n_physicians", "n_holidays"), [(1, 0), (8, 2)])
@pytest.mark.parametrize("who", ["moderator", "doctor", "lead"])
def test_roster_query_count_is_flat(
    client,
    filled_week,
    moderator,
    doctor,
    lead,
    who,
    n_physicians,
    n_holidays,
    django_assert_num_queries,
):
    filled_week(n_physicians, n_holidays)
    client.force_login({"moderator": moderator, "doctor": doctor, "lead": lead}[who])
    client.get(WEEK_URL)
    with django_assert_num_queries(MODERATOR_QUERIES if who == "moderator" else DOCTOR_QUERIES):
        response = client.get(WEEK_URL)
    assert response.status_code == 200
