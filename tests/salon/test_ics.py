import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from salon import services
from salon.models import Event

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def test_event_ics_is_valid_icalendar_in_shanghai_time(client, event_factory):
    # 06:00 UTC is 14:00 in Shanghai.
    starts = datetime(2031, 3, 4, 6, 0, tzinfo=UTC)
    event = event_factory(
        title="Eating well; with, tasting",
        description="Bring your **questions**.",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
    )
    calendar = parse(client.get(reverse("salon:event-ics", args=[event.pk])))
    assert calendar["VERSION"] == "2.0" and "Shu-Kang" in str(calendar["PRODID"])
    (item,) = calendar.walk("VEVENT")
    assert str(item["SUMMARY"]) == "Eating well; with, tasting"
    start, end = item.decoded("DTSTART"), item.decoded("DTEND")
    assert start == starts and end == starts + timedelta(hours=2)
    assert item["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert (start.astimezone(SHANGHAI).hour, start.astimezone(SHANGHAI).minute) == (14, 0)
    assert (
        b"DTSTART;TZID=Asia/Shanghai:20310304T140000"
        in client.get(reverse("salon:event-ics", args=[event.pk])).content
    )
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert str(item["UID"]).startswith(f"salon-event-{event.pk}@")
    assert str(item["LOCATION"]) == "Outpatient building, Room 302"
    assert str(item["STATUS"]) == "CONFIRMED"
    assert str(item["URL"]).endswith(event.get_absolute_url())
    assert "Bring your **questions**." in str(item["DESCRIPTION"])
    for required in ("DTSTAMP", "UID", "DTSTART"):
        assert required in item


def test_event_ics_lines_are_crlf_and_folded(client, event_factory):
    event = event_factory(description="A long description. " * 20)
    body = client.get(reverse("salon:event-ics", args=[event.pk])).content
    lines = body.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-2] == b"END:VCALENDAR"
    assert all(len(line) <= 75 for line in lines)


def test_the_meeting_link_is_in_the_file_only_for_confirmed_attendees(
    client, event_factory, user_factory
):
    confirmed, other = user_factory(), user_factory()
    event = event_factory(
        is_online=True,
        location="",
        online_url="https://meeting.example.com/r/7",
        attendees=[confirmed],
    )
    url = reverse("salon:event-ics", args=[event.pk])
    client.force_login(other)
    (item,) = parse(client.get(url)).walk("VEVENT")
    assert "meeting.example.com" not in str(item["DESCRIPTION"])
    assert str(item["LOCATION"]) == "Online"
    client.force_login(confirmed)
    (item,) = parse(client.get(url)).walk("VEVENT")
    assert "https://meeting.example.com/r/7" in str(item["DESCRIPTION"])


def test_a_cancelled_event_says_so_and_a_moved_one_raises_its_sequence(
    client, event_factory, organiser
):
    moved = event_factory()
    services.event_update(
        event=moved,
        organiser=organiser,
        starts_at=moved.starts_at + timedelta(days=1),
        ends_at=moved.ends_at + timedelta(days=1),
    )
    (item,) = parse(client.get(reverse("salon:event-ics", args=[moved.pk]))).walk("VEVENT")
    assert item["SEQUENCE"] == 1
    cancelled = event_factory()
    services.event_cancel(event=cancelled, organiser=organiser)
    (item,) = parse(client.get(reverse("salon:event-ics", args=[cancelled.pk]))).walk("VEVENT")
    assert str(item["STATUS"]) == "CANCELLED"


def test_drafts_have_no_calendar_file(client, event_factory):
    draft = event_factory(state=Event.State.DRAFT)
    assert client.get(reverse("salon:event-ics", args=[draft.pk])).status_code == 404


def test_the_feed_lists_upcoming_events_without_links(client, event_factory):
    soon = event_factory(title="Soon enough", online_url="https://meeting.example.com/secret")
    later = event_factory(
        title="Later on",
        starts_at=timezone.now() + timedelta(days=9),
        ends_at=timezone.now() + timedelta(days=9, hours=1),
    )
    event_factory(title="Over now", when="past")
    event_factory(title="Not yet public", state=Event.State.DRAFT)
    response = client.get(reverse("salon:calendar-feed"))
    calendar = parse(response)
    titles = [str(item["SUMMARY"]) for item in calendar.walk("VEVENT")]
    assert titles == [soon.title, later.title]
    assert b"meeting.example.com/secret" not in response.content
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Shanghai"
