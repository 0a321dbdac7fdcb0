"""Reads of a person's notifications; every query is scoped to its recipient."""

from django.db.models import QuerySet

from accounts.models import User
from notifications import payloads
from notifications.models import Notification, Preference, Verb
from notifications.services import DEFAULTS

CATCH_UP_LIMIT = 500


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-id")


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def hello(*, user: User) -> dict:
    """The first message on a new socket: unread count and the newest id."""
    last = (
        Notification.objects.filter(recipient=user)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    return payloads.hello_payload(unread=unread_count(user=user), last_id=last or 0)


def catch_up(*, user: User, since_id: int) -> list[dict]:
    """Layer events for the user's notifications newer than ``since_id``, oldest first."""
    unread = unread_count(user=user)
    rows = Notification.objects.filter(recipient=user, pk__gt=since_id).order_by("id")[
        :CATCH_UP_LIMIT
    ]
    return [payloads.layer_event(row, unread=unread) for row in rows]


def preference_table(*, user: User, verbs: list[str] | None = None) -> list[dict]:
    """Each verb with the user's current choice, for the preferences form."""
    chosen = {row.verb: row for row in Preference.objects.filter(user=user)}
    table = []
    for verb in verbs or Verb.values:
        in_app, email = DEFAULTS[verb]
        if verb in chosen:
            in_app, email = chosen[verb].in_app, chosen[verb].email
        table.append({"verb": verb, "label": Verb(verb).label, "in_app": in_app, "email": email})
    return table
