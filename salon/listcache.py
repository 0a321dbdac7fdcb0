"""The salon's version: what the home page shows of upcoming events.

The home page lists the next few published events
(``selectors.event_list_for_home``), each as a card with its title, time,
place and places taken. Every change to what those cards show (an event
published, edited, cancelled or deleted, a place taken or given up) moves
the version on after its commit, so visitors' home pages kept in each
process (``core.pagecache``) are rendered again. A change to an event the
home does not list, or to what its card does not show, leaves it alone.

Time moving on changes the list too (an event goes live, then ends); the
home page keeps its pages no longer than until the next such moment
(``core.views``).
"""

from core.versions import SharedVersion
from salon import selectors
from salon.models import Event

VERSION_KEY = "salon:home-version"

# What an event's card on the home page shows (salon/event_list.html#event_card).
HOME_CARD_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "location",
    "is_online",
    "state",
    "capacity",
    "confirmed_count",
    "waitlist_count",
)


_version = SharedVersion(VERSION_KEY, "salon")
# The salon's version, or None when the shared cache cannot be reached.
version = _version.get


def invalidate() -> None:
    """Forget every cached home page once the current transaction commits."""
    _version.invalidate()


def home_card(event: Event) -> tuple | None:
    """What the home page shows of ``event`` as stored now, or None when it is not listed."""
    if event.pk not in selectors.event_ids_for_home():
        return None
    return tuple(getattr(event, name) for name in HOME_CARD_FIELDS)


def event_changed(event: Event, *, before: tuple | None) -> None:
    """Forget the cached home pages if ``event`` now shows differently than ``before``.

    ``before`` is ``home_card(event)`` taken under the event's row lock,
    before the change; call this inside the same transaction, after it.
    """
    if home_card(event) != before:
        invalidate()
