"""What a suspended member is told, with the end of the suspension in their own time zone.

The same words reach them everywhere: the banner on every page
(``core.context_processors.suspension``) and every refused write
(``core.ratelimit.require_can_post``), wherever the refusal happens (a page,
a socket, a task), so it cannot rely on the zone a request activated.
"""

import zoneinfo
from datetime import datetime, tzinfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _


def user_zone(user) -> tzinfo:
    """The zone ``user`` reads times in: their own choice, else the site's (Asia/Shanghai)."""
    for name in (getattr(user, "timezone", ""), settings.TIME_ZONE):
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("Asia/Shanghai")


def suspension_end(user) -> datetime:
    """When ``user``'s suspension ends, in their own zone; call only while suspended."""
    return timezone.localtime(user.suspended_until, user_zone(user))


def suspension_message(user) -> str:
    """Why ``user`` may read but not write, and until when, in the active language."""
    return _("Your account is suspended until %(date)s. You can still read everything.") % {
        "date": suspension_end(user).strftime("%Y-%m-%d %H:%M")
    }
