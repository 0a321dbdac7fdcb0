"""What the salon's services share: checks, permissions, times in the site's zone."""

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from salon import selectors
from salon.models import Event, user_is_organiser


def require_organiser(user: User) -> None:
    if not user_is_organiser(user):
        raise PermissionDenied(_("Only salon organisers can do this."))


def can_moderate_room(event: Event, user: User) -> bool:
    """Hosts and organisers mark questions answered and publish them."""
    return selectors.room_role(event=event, viewer=user) == "host"


def local_time(moment: datetime) -> datetime:
    return timezone.localtime(moment, zoneinfo.ZoneInfo(settings.TIME_ZONE))


def in_each_language(build) -> dict[str, str]:
    """A text in every site language, for notifications read in either."""
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = str(build())
    return texts


def when_text(moment: datetime) -> dict[str, str]:
    local = local_time(moment)
    return in_each_language(
        lambda: (
            _("on %(date)s at %(time)s (%(zone)s)")
            % {
                "date": local.strftime("%Y-%m-%d"),
                "time": local.strftime("%H:%M"),
                "zone": settings.TIME_ZONE,
            }
        )
    )
