"""An MDT session as an iCalendar file, in the site's zone like the salon's (``salon.calendar``)."""

import zoneinfo
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from mdt.models import Session

PRODID = "-//Shu-Kang//Shu-Kang MDT//EN"


def session_ics(session: Session, *, site: str) -> bytes:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    host = urlparse(settings.SHUKANG_SITE_URL).hostname or "shukang.example"
    url = site + session.get_absolute_url()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    item = CalendarEvent()
    item.add("uid", f"mdt-session-{session.pk}@{host}")
    item.add("dtstamp", timezone.now())
    item.add("sequence", session.sequence)
    item.add("dtstart", timezone.localtime(session.starts_at, zone))
    item.add("dtend", timezone.localtime(session.ends_at, zone))
    item.add("summary", _("MDT: %(title)s") % {"title": session.title})
    # Case details stay on the site, behind its access rules: the file names none.
    deadline = timezone.localtime(session.submission_deadline, zone).strftime("%Y-%m-%d %H:%M")
    item.add(
        "description",
        "\n\n".join([_("Cases submitted by %(deadline)s.") % {"deadline": deadline}, url]),
    )
    if session.location:
        item.add("location", session.location)
    item.add("url", url)
    item.add("status", "CONFIRMED")
    calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical()
