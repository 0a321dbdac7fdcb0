"""The sentence each notification shows, written in the reader's language."""

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from notifications.models import Verb

TEMPLATES = {
    Verb.ANSWER: lambda d: _("%(actor)s answered “%(title)s”.") % d,
    Verb.REPLY: lambda d: _("%(actor)s replied on “%(title)s”.") % d,
    Verb.ACCEPTED: lambda d: _("%(actor)s accepted your answer on “%(title)s”.") % d,
    Verb.THANKED: lambda d: _("%(actor)s thanked your answer on “%(title)s”.") % d,
    Verb.POST_APPROVED: lambda d: (
        _("Your post on “%(title)s” was approved and is now published.") % d
    ),
    Verb.POST_REJECTED: lambda d: _("Your post on “%(title)s” was not approved: %(reason)s") % d,
    Verb.SPECIALTY_QUESTION: lambda d: _("New question in %(category)s: “%(title)s”.") % d,
    Verb.QUEUE_ITEM: lambda d: _("New in the moderation queue: %(title)s") % d,
    Verb.RSVP_CONFIRMED: lambda d: _("Your place at “%(title)s” is confirmed.") % d,
    Verb.WAITLIST_PROMOTED: lambda d: (
        _("A place opened up: you are now confirmed for “%(title)s”.") % d
    ),
    Verb.EVENT_REMINDER: lambda d: _("Reminder: “%(title)s” starts %(starts)s.") % d,
    Verb.EVENT_CHANGED: lambda d: _("“%(title)s” has changed: %(change)s") % d,
    Verb.EVENT_CANCELLED: lambda d: _("“%(title)s” has been cancelled.") % d,
    Verb.APPLICATION_DECIDED: lambda d: (
        _("Your physician profile is verified. You can now answer questions.")
        if d.get("approved")
        else _("Your physician application was not accepted: %(reason)s") % d
    ),
    Verb.ATTACHMENT_NEEDS_COVER: lambda d: (
        _(
            "A photo you shared on “%(title)s” seems to show personal data. "
            "Cover it so physicians can see the photo."
        )
        % d
    ),
    Verb.ATTACHMENT_REVIEWED: lambda d: (
        _("A moderator shared your photo on “%(title)s” with physicians.") % d
        if d.get("approved")
        else _("A moderator removed your photo on “%(title)s”: %(reason)s") % d
    ),
    Verb.DUTY_QUESTION: lambda d: (
        _("New question for you on duty in %(category)s: “%(title)s”.") % d
    ),
    Verb.DUTY_PASSED: lambda d: (
        _("%(by)s passed “%(title)s” to %(category)s: %(note)s") % d
        if d.get("note")
        else _("%(by)s passed “%(title)s” to %(category)s.") % d
    ),
    Verb.DUTY_REMINDER: lambda d: (
        _("“%(title)s” in %(category)s is still waiting for a physician's answer.") % d
    ),
    Verb.DUTY_ESCALATED: lambda d: (
        _("“%(title)s” in %(category)s has waited %(hours)s hours without a physician's answer.")
        % d
    ),
    Verb.MDT_CONSENT: lambda d: (
        _(
            "%(actor)s asks to discuss your question “%(title)s” at the department's "
            "multidisciplinary team (MDT). Please answer on your question's page."
        )
        % d
    ),
    Verb.MDT_CONSENSUS: lambda d: (
        _("The MDT agreed on a recommendation for your question “%(title)s”.") % d
    ),
    Verb.MDT_INVITED: lambda d: (
        _("You are invited to the MDT session “%(title)s”, %(starts)s.") % d
    ),
    Verb.MDT_FOLLOW_UP: lambda d: _("The MDT case “%(title)s” is due for follow-up.") % d,
    Verb.DUPLICATE_MARKED: lambda d: (
        _("%(actor)s found an answer to “%(title)s” in an earlier question: “%(original)s”.") % d
    ),
}


def _localized(value, language: str):
    """Values stored in both languages ({"en": ..., "zh-hans": ...}) give the reader's."""
    if isinstance(value, dict):
        return value.get(language) or value.get("en") or next(iter(value.values()), "")
    return value


def notification_text(verb: str, data: dict) -> str:
    """The notification's sentence in the active language."""
    language = get_language() or "en"
    values = {
        "actor": _("Someone"),
        "title": "",
        "reason": "",
        "category": "",
        "starts": "",
        "change": "",
        "original": "",
    }
    values |= {key: _localized(value, language) for key, value in data.items() if value is not None}
    try:
        return TEMPLATES[verb](values)
    except (KeyError, ValueError, TypeError):
        return _("You have a new notification.")
