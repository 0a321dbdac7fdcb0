"""Every write to the salon: events, places at them, and the live room.

Views, consumers, management commands and seed_demo call these functions
and nothing else to change salon data.
"""

from salon.services.common import can_moderate_room
from salon.services.events import (
    TITLE_MAX,
    TITLE_MIN,
    event_cancel,
    event_create,
    event_update,
)
from salon.services.places import REMINDER_AHEAD, reminders_send, rsvp_cancel, rsvp_create
from salon.services.room import (
    ANSWER_MAX,
    FORUM_ANSWER_MIN,
    QUESTION_MAX,
    QUESTION_MIN,
    PublishResult,
    live_question_create,
    live_question_mark_answered,
    live_question_vote,
    live_questions_publish,
)

__all__ = [
    "ANSWER_MAX",
    "FORUM_ANSWER_MIN",
    "QUESTION_MAX",
    "QUESTION_MIN",
    "REMINDER_AHEAD",
    "TITLE_MAX",
    "TITLE_MIN",
    "PublishResult",
    "can_moderate_room",
    "event_cancel",
    "event_create",
    "event_update",
    "live_question_create",
    "live_question_mark_answered",
    "live_question_vote",
    "live_questions_publish",
    "reminders_send",
    "rsvp_cancel",
    "rsvp_create",
]
