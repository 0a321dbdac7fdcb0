"""Live room messages: new questions, votes and answers pushed to everyone in the room.

Called on commit by the services. Fragments are rendered with the room
page's own partials, once per language and per role (hosts get the
"mark answered" controls), as the room's attendees see them (SPEC section 7:
``/ws/salon/<id>/`` carries ``{"type": "question"|"vote"|"answered", ...}``).
When what let someone in ends (their place, the event), their sockets are
told to check again, and close if a reconnect would be refused.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import ngettext

from core.layer import group_send_all

logger = logging.getLogger(__name__)

ROOM_EVENT = "salon.message"
ACCESS_EVENT = "salon.access.changed"
ROLES = ("attendee", "host")


def room_group(event_id: int) -> str:
    return f"salon.event.{event_id}"


def member_group(event_id: int, user_id: int) -> str:
    """One person's sockets in one room, told when their place there ends."""
    return f"salon.event.{event_id}.user.{user_id}"


def votes_label(count: int) -> str:
    """The same words as the page's ``{% blocktranslate count %}``, so one translation serves both."""
    return ngettext("%(counter)s vote", "%(counter)s votes", count) % {"counter": count}


def _fragment(question, language: str, role: str) -> str:
    context = {
        "user": AnonymousUser(),
        "event": question.event,
        "q": question,
        "room": {"can_moderate": role == "host", "can_take_part": True, "voted_ids": set()},
    }
    with translation.override(language):
        return render_to_string("salon/event_live.html#question", context)


def _payloads(question, kind: str) -> dict:
    """Per role, per language: the socket message for ``question``."""
    payloads = {}
    for role in ROLES:
        payloads[role] = {}
        for code, _name in settings.LANGUAGES:
            message = {"type": kind, "id": question.pk, "votes": question.vote_count}
            with translation.override(code):
                message["votes_label"] = votes_label(question.vote_count)
            if kind != "vote":
                message["html"] = _fragment(question, code, role)
            payloads[role][code] = message
    return payloads


def _send(event_id: int, payloads: dict) -> None:
    group_send_all([(room_group(event_id), {"type": ROOM_EVENT, "payloads": payloads})])


def _broadcast(question_id: int, kind: str) -> None:
    from salon.selectors import live_question_for_broadcast

    try:
        question = live_question_for_broadcast(pk=question_id)
        if not question.event.is_published:
            return
        _send(question.event_id, _payloads(question, kind))
    except Exception as error:  # noqa: BLE001 - the write is saved; the room sees it on reload
        logger.warning(
            "salon: live %s broadcast of question %s failed: %s", kind, question_id, error
        )


def broadcast_question(question_id: int) -> None:
    """A new question: everyone in the room gets it; never raises."""
    _broadcast(question_id, "question")


def broadcast_vote(question_id: int) -> None:
    """A question's vote count changed; the count sent is the one stored at send time."""
    _broadcast(question_id, "vote")


def broadcast_answered(question_id: int) -> None:
    """A question was marked answered: it moves down for everyone."""
    _broadcast(question_id, "answered")


def broadcast_access_changed(event_id: int, *, user_ids: Iterable[int] | None = None) -> None:
    """Make the room's sockets check their permission again; never raises.

    Those of ``user_ids`` (a place given up, a host added or removed), or
    every socket in the room when the event's state changed (cancelled).
    Call it on commit: a socket that checks before the commit sees the old rows.
    """
    if user_ids is None:
        groups = [room_group(event_id)]
    else:
        groups = [member_group(event_id, user_id) for user_id in user_ids]
    if not groups:
        return

    try:
        group_send_all([(group, {"type": ACCESS_EVENT}) for group in groups])
    except Exception as error:  # noqa: BLE001 - a layer that is down brings the socket nothing either
        logger.warning("salon: access check of event %s's room failed: %s", event_id, error)
