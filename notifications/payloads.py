"""Every message about notifications, on the channel layer and on the socket, built in one place.

The layer carries the notification's parts; each socket writes the text in
its own reader's language, since one action can notify readers of both.
"""

from notifications.models import Notification
from notifications.texts import notification_text

CREATED = "notification.created"
REVOKED = "session.revoked"
FANOUT = "notifications.fanout"
# Every server process's fan-out listener (notifications.fanout), one member each.
FANOUT_GROUP = "notifications.fanout"


def layer_event(notification: Notification, *, unread: int) -> dict:
    """What travels through the channel layer to the recipient's sockets."""
    return {
        "type": CREATED,
        "id": notification.pk,
        "verb": notification.verb,
        "data": notification.data,
        "url": notification.url,
        "created": notification.created_at.isoformat(),
        "unread": unread,
    }


def fanout_event(events: list[tuple[int, dict]]) -> dict:
    """Many recipients' ``layer_event``s in one message, each with its recipient's id."""
    return {"type": FANOUT, "events": [[user_id, event] for user_id, event in events]}


def notification_payload(event: dict) -> dict:
    """The socket message for one notification, text in the active language."""
    return {
        "type": "notification",
        "id": event["id"],
        "verb": event["verb"],
        "text": notification_text(event["verb"], event["data"]),
        "url": event["url"],
        "created": event["created"],
        "unread": event["unread"],
    }


def hello_payload(*, unread: int, last_id: int) -> dict:
    return {"type": "hello", "unread": unread, "last_id": last_id}


def read_payload(*, ids: list[int], unread: int) -> dict:
    return {"type": "read", "ids": ids, "unread": unread}


def user_group(user_id: int) -> str:
    """The channel-layer group of one person's sockets."""
    return f"notifications.user.{user_id}"


def session_group(session_key: str) -> str:
    """The group of the sockets opened by one session, closed when it ends."""
    return f"notifications.session.{session_key}"
