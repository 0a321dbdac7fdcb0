"""The one door for notifications (SPEC section 6; STYLE section 3).

``notify`` writes the rows in the caller's transaction and registers one
``on_commit`` callback that pushes them to each recipient's sockets and
sends the e-mails; a rolled-back action notifies nobody. The database is the
source of truth: a push that fails is recovered by the client's catch-up.
"""

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from notifications import payloads
from notifications.models import Notification, Preference, Verb
from notifications.texts import notification_text

logger = logging.getLogger(__name__)

# What each person gets until they choose otherwise.
DEFAULTS = {
    Verb.ANSWER: (True, True),
    Verb.REPLY: (True, False),
    Verb.ACCEPTED: (True, False),
    Verb.THANKED: (True, False),
    Verb.POST_APPROVED: (True, False),
    Verb.POST_REJECTED: (True, True),
    Verb.SPECIALTY_QUESTION: (False, False),  # doctors opt in
    Verb.QUEUE_ITEM: (True, False),
    Verb.RSVP_CONFIRMED: (True, True),
    Verb.WAITLIST_PROMOTED: (True, True),
    Verb.EVENT_REMINDER: (True, True),
    Verb.EVENT_CHANGED: (True, True),
    Verb.EVENT_CANCELLED: (True, True),
    Verb.APPLICATION_DECIDED: (True, True),
}

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def preferences_for(*, users: Iterable[User], verb: str) -> dict[int, tuple[bool, bool]]:
    """(in_app, email) for each user and this verb, defaults filled in."""
    ids = [user.pk for user in users]
    chosen = {
        row.user_id: (row.in_app, row.email)
        for row in Preference.objects.filter(user_id__in=ids, verb=verb)
    }
    return {user_id: chosen.get(user_id, DEFAULTS[verb]) for user_id in ids}


def notify(
    *,
    recipients: Iterable[User],
    verb: str,
    url: str,
    data: dict | None = None,
    actor: User | None = None,
) -> list[Notification]:
    """Notify ``recipients`` of ``verb`` inside the caller's transaction.

    The caller chooses the recipients and never passes unpublished content
    (SPEC section 5); the actor is never notified of their own action.
    ``data`` must already show names as the recipients may see them.
    """
    data = data or {}
    people = {
        user.pk: user
        for user in recipients
        if user is not None and user.is_active and (actor is None or user.pk != actor.pk)
    }
    if not people:
        return []
    choices = preferences_for(users=people.values(), verb=verb)
    rows = [
        Notification(recipient_id=user_id, verb=verb, actor=actor, url=url, data=data)
        for user_id, (in_app, _email) in choices.items()
        if in_app
    ]
    # PostgreSQL and SQLite 3.35+ (Django 6.1 needs 3.37) return the new ids.
    created = Notification.objects.bulk_create(rows)
    mail_to = [
        people[user_id]
        for user_id, (_in_app, email) in choices.items()
        if email and people[user_id].email
    ]
    transaction.on_commit(lambda: _deliver(created, mail_to, verb=verb, url=url, data=data))
    return created


def _deliver(
    notifications: list[Notification], mail_to: list[User], *, verb: str, url: str, data: dict
) -> None:
    """After the commit: push to open sockets, then send the e-mails."""
    if notifications:
        push(notifications)
    if mail_to:
        send_emails(mail_to, verb=verb, url=url, data=data)


def unread_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Notification.objects.filter(recipient_id__in=user_ids, read_at__isnull=True)
        .values("recipient_id")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(user_ids, 0)
    counts.update({row["recipient_id"]: row["n"] for row in rows})
    return counts


def push(notifications: list[Notification]) -> bool:
    """Send stored notifications to their recipients' sockets; never raises.

    If the channel layer is down the action has still happened and the rows
    are stored: the browser gets them by catch-up when it reconnects.
    """
    try:
        counts = unread_counts([n.recipient_id for n in notifications])
        layer = get_channel_layer()
        send = async_to_sync(_send_all)
        send(
            layer,
            [
                (
                    payloads.user_group(n.recipient_id),
                    payloads.layer_event(n, unread=counts[n.recipient_id]),
                )
                for n in notifications
            ],
        )
    except Exception as error:  # noqa: BLE001 - a push must never break the action that caused it
        logger.warning(
            "notifications: push of %d notification(s) failed: %s", len(notifications), error
        )
        return False
    return True


async def _send_all(layer, messages: list[tuple[str, dict]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)


def unsubscribe_token(*, user: User, verb: str) -> str:
    return signing.dumps({"u": user.pk, "v": verb}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe(*, token: str) -> tuple[User, str]:
    """Turn off e-mail for the verb named in a signed link; raises BadSignature if forged."""
    value = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=60 * 60 * 24 * 365)
    user = User.objects.get(pk=value["u"])
    verb = value["v"]
    if verb not in Verb.values:
        raise signing.BadSignature("unknown verb")
    in_app, _email = preferences_for(users=[user], verb=verb)[user.pk]
    Preference.objects.update_or_create(
        user=user, verb=verb, defaults={"in_app": in_app, "email": False}
    )
    return user, verb


def _email_for(user: User, *, verb: str, url: str, data: dict) -> EmailMessage:
    site = settings.SHUKANG_SITE_URL.rstrip("/")
    with translation.override(settings.LANGUAGE_CODE):
        text = notification_text(verb, data)
        unsubscribe_url = site + reverse(
            "notifications:unsubscribe", args=[unsubscribe_token(user=user, verb=verb)]
        )
        body = "\n\n".join(
            [
                _("Hello %(name)s,") % {"name": user.name},
                text,
                site + url,
                _(
                    "You receive this e-mail because of your notification settings. "
                    "To stop e-mails of this kind, open: %(link)s"
                )
                % {"link": unsubscribe_url},
                _("In an emergency call 120 or go to the nearest emergency department."),
            ]
        )
        subject = f"[{_('Shu-Kang')}] {text}"[:150]
    return EmailMessage(subject, body, to=[user.email])


def send_emails(users: list[User], *, verb: str, url: str, data: dict) -> None:
    """Send one notification e-mail to each user over a single mail connection; never raises.

    One connection for the whole batch: a popular question's followers must
    not cost one SMTP handshake each.
    """
    messages = [_email_for(user, verb=verb, url=url, data=data) for user in users]
    try:
        mailers.default.send_messages(messages)
    except Exception as error:  # noqa: BLE001 - mail trouble must not undo the action
        logger.warning("notifications: %d e-mail(s) failed: %s", len(messages), error)


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> list[int]:
    """Mark the user's own notifications read (all when ``ids`` is None); others' ids are ignored."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=[i for i in ids if isinstance(i, int)][:500])
    marked = list(unread.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=marked).update(read_at=timezone.now())
    return marked


def preferences_save(*, user: User, choices: dict[str, tuple[bool, bool]]) -> None:
    """Store the user's (in_app, email) choice for each verb given."""
    for verb, (in_app, email) in choices.items():
        if verb in Verb.values:
            Preference.objects.update_or_create(
                user=user, verb=verb, defaults={"in_app": in_app, "email": email}
            )


def sessions_revoke(*, user_id: int | None = None, session_key: str | None = None) -> None:
    """Close the sockets of one session, or of every session of a user."""
    groups = []
    if session_key:
        groups.append(payloads.session_group(session_key))
    if user_id:
        groups.append(payloads.user_group(user_id))
    try:
        async_to_sync(_send_all)(
            get_channel_layer(), [(group, {"type": payloads.REVOKED}) for group in groups]
        )
    except Exception as error:  # noqa: BLE001 - logging out must work with the layer down
        logger.warning("notifications: revoking sockets failed: %s", error)
