"""The one door for notifications (SPEC section 6; STYLE section 3).

``notify`` writes the rows in the caller's transaction: the notifications,
the e-mails to send, and the task that sends them, so a rolled-back action
notifies nobody and a committed one loses nothing. After the commit the
notifications are pushed to each recipient's sockets, from the acting
process for a few recipients and by the worker for many. The database is the
source of truth: a push that fails is recovered by the client's catch-up,
and an e-mail the mail server refused is retried until it has gone, once.
"""

import logging
import smtplib
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import Count, F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core import layer, sessionuser
from core.tasks import task_enqueue
from notifications import payloads
from notifications.models import Notification, OutgoingEmail, Preference, Verb
from notifications.texts import notification_text

logger = logging.getLogger(__name__)

# Recipients pushed to from the acting request itself; more go through the
# worker, and reach the sockets by fan-out, one message per server process.
DIRECT_PUSH_MAX = 20
# Notifications in one fan-out message: a thousand followers' make about
# 300 kB, and the first processes start delivering before the last is sent.
FANOUT_BATCH = 200
# What a failing mail server raises; the e-mail task retries on these.
MAIL_ERRORS = (smtplib.SMTPException, OSError)
# An unsent e-mail nobody has tried for this long has lost its retries.
STALLED_AFTER = timedelta(hours=1)
# Sent e-mails hold names and addresses: kept this long, for staff to check.
KEEP_SENT_EMAILS = timedelta(days=30)

# What each person gets until they choose otherwise.
DEFAULTS = {
    Verb.ANSWER: (True, True),
    Verb.REPLY: (True, False),
    Verb.ACCEPTED: (True, False),
    Verb.THANKED: (True, False),
    Verb.POST_APPROVED: (True, False),
    Verb.POST_REJECTED: (True, True),
    Verb.SPECIALTY_QUESTION: (True, False),  # in-app unless a doctor turns it off; e-mail opt-in
    Verb.QUEUE_ITEM: (True, False),
    Verb.RSVP_CONFIRMED: (True, True),
    Verb.WAITLIST_PROMOTED: (True, True),
    Verb.EVENT_REMINDER: (True, True),
    Verb.EVENT_CHANGED: (True, True),
    Verb.EVENT_CANCELLED: (True, True),
    Verb.APPLICATION_DECIDED: (True, True),
    # The asker may be waiting for an answer that will now not come here.
    Verb.DUPLICATE_MARKED: (True, True),
    # A photo nobody can see until its author covers what it shows.
    Verb.ATTACHMENT_NEEDS_COVER: (True, True),
    Verb.ATTACHMENT_REVIEWED: (True, False),
    # On duty: the physician is responsible for it, so e-mail too unless they turn it off.
    Verb.DUTY_QUESTION: (True, True),
    Verb.DUTY_PASSED: (True, True),
    Verb.DUTY_REMINDER: (True, True),
    Verb.DUTY_ESCALATED: (True, True),
    # The asker decides whether their question is linked: they should not miss it.
    Verb.MDT_CONSENT: (True, True),
    Verb.MDT_CONSENSUS: (True, True),
    Verb.MDT_INVITED: (True, True),
    Verb.MDT_FOLLOW_UP: (True, True),
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
    in_worker: bool = False,
) -> list[Notification]:
    """Notify ``recipients`` of ``verb`` inside the caller's transaction.

    The caller chooses the recipients and never passes unpublished content
    (SPEC section 5); the actor is never notified of their own action.
    ``data`` must already show names as the recipients may see them. A task
    passes ``in_worker``: it pushes after its own commit however many there
    are, rather than queueing another task to do it.
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
    if created:
        sessionuser.invalidate()  # the recipients' bells, as their next page shows them
        _push_after_commit(created, in_worker=in_worker)
    emails = [
        OutgoingEmail(recipient_id=user_id, to=people[user_id].email, verb=verb, url=url, data=data)
        for user_id, (_in_app, email) in choices.items()
        if email and people[user_id].email
    ]
    if emails:
        emails_queue(emails)
    return created


def _push_after_commit(notifications: list[Notification], *, in_worker: bool) -> None:
    """Push from this process after the commit, or hand a long list to the worker.

    A few recipients cost a few milliseconds, so pushing them here keeps the
    common case fast; a popular question's followers would keep the person
    who acted waiting, so their push is a task. Either way a push that never
    arrives is caught up by the browser (``since``).
    """
    if in_worker:
        transaction.on_commit(partial(push, notifications, timeout=layer.WORKER_TIMEOUT))
    elif len(notifications) <= DIRECT_PUSH_MAX:
        transaction.on_commit(partial(push, notifications))
    else:
        from notifications.tasks import notifications_push

        task_enqueue(notifications_push, ids=[n.pk for n in notifications])


def emails_queue(emails: list[OutgoingEmail]) -> list[OutgoingEmail]:
    """Store unsaved e-mails with the caller's transaction and queue their sending."""
    from notifications.tasks import emails_send as send_task

    created = OutgoingEmail.objects.bulk_create(emails)
    task_enqueue(send_task, ids=[email.pk for email in created])
    return created


def unread_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Notification.objects.filter(recipient_id__in=user_ids, read_at__isnull=True)
        .values("recipient_id")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(user_ids, 0)
    counts.update({row["recipient_id"]: row["n"] for row in rows})
    return counts


def push(notifications: Iterable[Notification], *, timeout: float = layer.REQUEST_TIMEOUT) -> bool:
    """Send stored notifications to their recipients' sockets; never raises.

    A few go to each recipient's group; a long list goes by fan-out
    (``notifications.fanout``), a message per batch to every server process.

    If the channel layer is down or hangs the action has still happened and
    the rows are stored: the browser gets them by catch-up when it reconnects.
    """
    notifications = list(notifications)
    try:
        counts = unread_counts(list({n.recipient_id for n in notifications}))
        events = [
            (n.recipient_id, payloads.layer_event(n, unread=counts[n.recipient_id]))
            for n in notifications
        ]
        if len(events) <= DIRECT_PUSH_MAX:
            messages = [(payloads.user_group(user_id), event) for user_id, event in events]
        else:
            messages = [
                (payloads.FANOUT_GROUP, payloads.fanout_event(events[start : start + FANOUT_BATCH]))
                for start in range(0, len(events), FANOUT_BATCH)
            ]
        layer.group_send_all(messages, timeout=timeout)
    except Exception as error:  # noqa: BLE001 - a push must never break the action that caused it
        logger.warning(
            "notifications: push of %d notification(s) failed: %s", len(notifications), error
        )
        return False
    return True


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


def emails_send(*, ids: list[int]) -> int:
    """Send the stored e-mails among ``ids`` that have not gone yet; returns how many went.

    One mail connection for the batch: a popular question's followers must
    not cost one SMTP handshake each. Each e-mail is locked, sent and
    stamped in its own transaction, so two workers never send one twice and
    a failure part-way keeps what already went. A failing mail server is
    recorded on the e-mails still unsent, and raised for the task to retry.
    """
    pending = list(
        OutgoingEmail.objects.filter(pk__in=ids, sent_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not pending:
        return 0
    sent = 0
    try:
        with mailers.default as connection:
            for pk in pending:
                with transaction.atomic():
                    email = (
                        OutgoingEmail.objects.select_for_update(skip_locked=True)
                        .filter(pk=pk, sent_at__isnull=True)
                        .first()
                    )
                    if email is None:  # sent meanwhile, or being sent by another worker
                        continue
                    connection.send_messages([_message_for(email)])
                    email.sent_at = timezone.now()
                    email.attempts += 1
                    email.last_error = ""
                    email.save(update_fields=["sent_at", "attempts", "last_error", "updated_at"])
                    sent += 1
    except MAIL_ERRORS as error:
        OutgoingEmail.objects.filter(pk__in=pending, sent_at__isnull=True).update(
            attempts=F("attempts") + 1,
            last_error=f"{type(error).__name__}: {error}"[:1000],
            updated_at=timezone.now(),
        )
        raise
    return sent


def _message_for(email: OutgoingEmail) -> EmailMessage:
    """The message to send, written in words now for a notification e-mail."""
    if not email.verb:
        message = EmailMultiAlternatives(email.subject, email.body, to=[email.to])
        if email.html_body:
            message.attach_alternative(email.html_body, "text/html")
        return message
    recipient = email.recipient
    site = settings.SHUKANG_SITE_URL.rstrip("/")
    with translation.override(settings.LANGUAGE_CODE):
        text = notification_text(email.verb, email.data)
        parts = [_("Hello %(name)s,") % {"name": recipient.name}, text, site + email.url]
        unsubscribe_url = site + reverse(
            "notifications:unsubscribe",
            args=[unsubscribe_token(user=recipient, verb=email.verb)],
        )
        parts.append(
            _(
                "You receive this e-mail because of your notification settings. "
                "To stop e-mails of this kind, open: %(link)s"
            )
            % {"link": unsubscribe_url}
        )
        parts.append(_("In an emergency call 120 or go to the nearest emergency department."))
        subject = f"[{_('Shu-Kang')}] {text}"[:150]
    return EmailMessage(subject, "\n\n".join(parts), to=[email.to])


def emails_resend_stalled(*, older_than: timedelta = STALLED_AFTER) -> int:
    """Queue again the unsent e-mails nobody has tried for a while; returns how many.

    A retry chain tries at least every ``SHUKANG_TASK_RETRY["cap"]`` seconds,
    so an e-mail untouched for longer has lost its chain (a worker killed
    mid-task, or retries exhausted) and is tried again, still at most once.
    """
    from notifications.tasks import emails_send as send_task

    stalled = list(
        OutgoingEmail.objects.filter(
            sent_at__isnull=True, updated_at__lt=timezone.now() - older_than
        ).values_list("pk", flat=True)[:5000]
    )
    if stalled:
        with transaction.atomic():
            OutgoingEmail.objects.filter(pk__in=stalled).update(updated_at=timezone.now())
            task_enqueue(send_task, ids=stalled)
    return len(stalled)


def emails_prune(*, older_than: timedelta = KEEP_SENT_EMAILS) -> int:
    """Forget e-mails sent long ago, since they hold names and addresses; returns how many."""
    deleted, _by_model = OutgoingEmail.objects.filter(
        sent_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> list[int]:
    """Mark the user's own notifications read (all when ``ids`` is None); others' ids are ignored."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=[i for i in ids if isinstance(i, int)][:500])
    marked = list(unread.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=marked).update(read_at=timezone.now())
    if marked:
        sessionuser.invalidate()
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
        layer.group_send_all([(group, {"type": payloads.REVOKED}) for group in groups])
    except Exception as error:  # noqa: BLE001 - logging out must work with the layer down
        logger.warning("notifications: revoking sockets failed: %s", error)
