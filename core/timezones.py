"""Time zones named the way readers say them, in the reader's language.

Abbreviations such as "CST" mean nothing to most Chinese readers (and mean
US Central Time to others); the site says 北京时间 and "China Standard Time",
and names other zones by place, from the Unicode CLDR data that Babel ships.
"""

import zoneinfo
from datetime import datetime, tzinfo
from functools import lru_cache

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone, get_timezone_location
from django.utils import timezone, translation
from django.utils.translation import gettext as _

# The IANA database's regions; the other names are old aliases ("PRC",
# "US/Eastern") and fixed offsets ("Etc/GMT+5"), which nobody needs to pick.
REGIONS = {
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
}
CHINA = "Asia/Shanghai"
UTC = "Etc/UTC"


def _canonical(name: str) -> str:
    return get_global("zone_aliases").get(name, name)


@lru_cache(maxsize=1)
def _aliases() -> dict[str, list[str]]:
    """Each zone's older names; CLDR keeps some cities' translations under them."""
    aliases: dict[str, list[str]] = {}
    for alias, canonical in get_global("zone_aliases").items():
        aliases.setdefault(canonical, []).append(alias)
    return aliases


def _place(name: str, locale: Locale) -> str:
    label = get_timezone_location(get_timezone(name), locale=locale)
    city = get_timezone_location(get_timezone(name), locale=locale, return_city=True)
    for alias in _aliases().get(name, []):
        translated = locale.time_zones.get(alias, {}).get("city")
        if translated:
            return label.replace(city, translated)
    # A city CLDR does not name is spelled from the zone's name
    # ("Argentina/Buenos Aires"); its last part is the city.
    return label.replace(city, city.rsplit("/", 1)[-1])


def zone_label(zone: tzinfo | str | None = None) -> str:
    """The zone's name in the active language; the current zone if none is given."""
    zone = zone if zone is not None else timezone.get_current_timezone()
    name = _canonical(zone if isinstance(zone, str) else getattr(zone, "key", None) or "")
    if name == CHINA:
        return _("China Standard Time")
    if name in (UTC, "UTC"):
        return _("Coordinated Universal Time")
    try:
        locale = Locale.parse(translation.to_locale(translation.get_language() or "en"))
        return _place(name, locale)
    except (LookupError, ValueError):
        return name or str(zone)


def _offset(name: str, moment: datetime) -> int:
    delta = moment.astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
    return int(delta.total_seconds() // 60) if delta is not None else 0


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def zone_names() -> list[str]:
    """Every zone a person may choose: one name per place, the IANA database's current ones."""
    aliases = get_global("zone_aliases")
    return sorted(
        name
        for name in zoneinfo.available_timezones()
        if name.split("/", 1)[0] in REGIONS and name not in aliases
    ) + ["UTC"]


@lru_cache(maxsize=8)
def _choices(language: str, day) -> tuple[tuple[str, str], ...]:
    moment = timezone.now()
    rows = []
    with translation.override(language):
        for name in zone_names():
            minutes = _offset(name, moment)
            label = _("%(zone)s (UTC%(offset)s)") % {
                "zone": zone_label(name),
                "offset": _offset_text(minutes),
            }
            rows.append((minutes, label, name))
    rows.sort()
    return tuple((name, label) for _minutes, label, name in rows)


def zone_choices() -> list[tuple[str, str]]:
    """(name, label) for every zone, west to east, labelled in the active language.

    Offsets are today's (summer time moves them), so the list is built once
    per language and day.
    """
    language = translation.get_language() or "en"
    return list(_choices(language, timezone.now().date()))


def zone_choice_label(name: str) -> str:
    """The label of one zone, also for a name no longer in the list (an old alias)."""
    minutes = _offset(name, timezone.now())
    return _("%(zone)s (UTC%(offset)s)") % {
        "zone": zone_label(name),
        "offset": _offset_text(minutes),
    }
