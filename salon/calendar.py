"""iCalendar files for salon events (RFC 5545), built with the icalendar package.

Times are written in the site's zone (Asia/Shanghai by default) with a
VTIMEZONE for it, so calendars show the hour the event was announced at.
"""

import zoneinfo
from collections.abc import Iterable
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from salon.models import Event

PRODID = "-//Shu-Kang//Shu-Kang Salon//EN"


def _uid(event: Event) -> str:
    host = urlparse(settings.SHUKANG_SITE_URL).hostname or "shukang.example"
    return f"salon-event-{event.pk}@{host}"


def _component(event: Event, *, site: str, with_link: bool, zone, stamp) -> CalendarEvent:
    url = site + event.get_absolute_url()
    item = CalendarEvent()
    item.add("uid", _uid(event))
    item.add("dtstamp", stamp)
    item.add("created", event.created_at)
    item.add("last-modified", event.updated_at)
    item.add("sequence", event.sequence)
    item.add("dtstart", timezone.localtime(event.starts_at, zone))
    item.add("dtend", timezone.localtime(event.ends_at, zone))
    item.add("summary", event.title)
    description = [event.description] if event.description else []
    if event.is_online and with_link and event.online_url:
        description.append(_("Join online: %(url)s") % {"url": event.online_url})
    description.append(url)
    item.add("description", "\n\n".join(description))
    if event.location:
        item.add("location", event.location)
    elif event.is_online:
        item.add("location", _("Online"))
    item.add("url", url)
    item.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")
    item.add("transp", "OPAQUE")
    return item


def calendar_bytes(
    events: Iterable[Event], *, site: str, name: str, links_for: set[int] = frozenset()
) -> bytes:
    """One VCALENDAR holding ``events``; the meeting link only for events in ``links_for``."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = timezone.now()
    for event in events:
        calendar.add_component(
            _component(event, site=site, with_link=event.pk in links_for, zone=zone, stamp=stamp)
        )
    calendar.add_missing_timezones()
    return calendar.to_ical()
