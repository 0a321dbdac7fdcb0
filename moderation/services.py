"""Every moderator action, each written to the append-only audit log (SPEC section 5)."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import sessionuser
from core.ratelimit import rate_limit, require_can_post
from moderation import registry
from moderation.models import AuditEntry, BlockedTerm, Case, Flag
from notifications.models import Verb
from notifications.services import notify, sessions_revoke


def _require_moderator(user) -> None:
    if not user.is_authenticated or not user.is_moderator:
        raise PermissionDenied(_("Only moderators can do this."))


def _moderators():
    return get_user_model().objects.moderators()


def _describe(target) -> str:
    try:
        return registry.kind_of(target).describe(target)
    except LookupError:
        return str(target)


def audit(*, moderator, action: str, target=None, reason: str = "") -> AuditEntry:
    """Append one entry to the audit log: who, what, which object, why, when."""
    return AuditEntry.objects.create(
        moderator=moderator,
        action=action,
        content_type=ContentType.objects.get_for_model(target) if target is not None else None,
        object_id=target.pk if target is not None else None,
        object_repr=str(_describe(target) if target is not None else "")[:200],
        reason=reason,
    )


def _open_case(*, target, kind: str, reasons: list[str]) -> tuple[Case, bool]:
    content_type = ContentType.objects.get_for_model(target)
    case = (
        Case.objects.select_for_update()
        .filter(content_type=content_type, object_id=target.pk, resolved_at__isnull=True)
        .first()
    )
    if case is not None:
        case.reasons = sorted(set(case.reasons) | set(reasons))
        case.save(update_fields=["reasons"])
        return case, False
    try:
        with transaction.atomic():
            return Case.objects.create(
                content_type=content_type, object_id=target.pk, kind=kind, reasons=reasons
            ), True
    except IntegrityError:  # opened by a concurrent request a moment ago
        return Case.objects.get(
            content_type=content_type, object_id=target.pk, resolved_at__isnull=True
        ), False


def _describe_in_every_language(target) -> dict[str, str]:
    """``_describe`` in each of the site's languages; a notification shows the reader's."""
    described = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            described[code] = str(_describe(target))
    return described


def _announce_case(case: Case, target) -> None:
    notify(
        recipients=_moderators(),
        verb=Verb.QUEUE_ITEM,
        url=f"/moderation/#case-{case.pk}",
        data={"title": _describe_in_every_language(target)},
    )


def case_open_for_held_post(*, post, reasons: list[str]) -> Case:
    """Put a held post in the queue; moderators hear of it live."""
    case, created = _open_case(target=post, kind=Case.Kind.HELD, reasons=reasons)
    if created:
        _announce_case(case, post)
    return case


def case_open_for_review(*, target, reasons: list[str]) -> Case:
    """Put any registered kind of content in the queue for a moderator to look at."""
    case, created = _open_case(target=target, kind=Case.Kind.HELD, reasons=reasons)
    if created:
        _announce_case(case, target)
    return case


def case_close_for(*, target, moderator, resolution: str) -> None:
    """Resolve the open case of ``target``, if any, decided outside the queue."""
    Case.objects.filter(
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        resolved_at__isnull=True,
    ).update(resolved_at=timezone.now(), resolved_by=moderator, resolution=resolution)


def case_open_for_application(*, profile) -> Case:
    case, created = _open_case(target=profile, kind=Case.Kind.APPLICATION, reasons=[])
    if created:
        _announce_case(case, profile)
    return case


def _locked_case(case_id: int, *, seen_version: str | None) -> tuple[Case, object]:
    """The open case and its target, locked; refuse if decided or changed meanwhile."""
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    if case is None or not case.is_open:
        raise ValidationError(_("Another moderator has already handled this item."))
    model = case.content_type.model_class()
    target = model.objects.select_for_update().get(pk=case.object_id)
    if seen_version is not None and seen_version != version_of(target):
        raise ValidationError(
            _("This item changed after you opened it. Look at it again before deciding.")
        )
    return case, target


def version_of(target) -> str:
    """A token that changes whenever the target is edited, for stale-decision checks."""
    return target.updated_at.isoformat()


def _resolve(case: Case, *, moderator, resolution: str) -> None:
    case.resolved_at = timezone.now()
    case.resolved_by = moderator
    case.resolution = resolution
    case.save(update_fields=["resolved_at", "resolved_by", "resolution"])


def case_approve(*, case_id: int, moderator, seen_version: str | None = None) -> Case:
    """Publish a held post, or restore a flagged one; verify an application."""
    _require_moderator(moderator)
    with transaction.atomic():
        case, target = _locked_case(case_id, seen_version=seen_version)
        action = registry.kind_of(target).approve(target, case=case, moderator=moderator)
        audit(moderator=moderator, action=action, target=target)
        _resolve(case, moderator=moderator, resolution="approved")
    return case


def case_reject(*, case_id: int, moderator, reason: str, seen_version: str | None = None) -> Case:
    """Keep a post from the public with a reason its author is told; refuse an application."""
    _require_moderator(moderator)
    if not reason.strip():
        raise ValidationError(_("Give the author a reason."))
    with transaction.atomic():
        case, target = _locked_case(case_id, seen_version=seen_version)
        action = registry.kind_of(target).reject(
            target, case=case, moderator=moderator, reason=reason.strip()
        )
        audit(moderator=moderator, action=action, target=target, reason=reason)
        _resolve(case, moderator=moderator, resolution="rejected")
    return case


def case_redact_and_approve(
    *,
    case_id: int,
    moderator,
    body: str,
    title: str = "",
    reason: str = "",
    seen_version: str | None = None,
) -> Case:
    """Replace a post's text, and a question's title if given, then publish it.

    The original is kept as a revision for moderators; readers see the post
    marked as edited by a moderator, not as the author's own edit.
    """
    _require_moderator(moderator)
    if len(body.strip()) < 2:
        raise ValidationError(_("The redacted text cannot be empty."))
    with transaction.atomic():
        case, target = _locked_case(case_id, seen_version=seen_version)
        kind = registry.kind_of(target)
        if kind.redact is None:
            raise ValidationError(_("Applications cannot be redacted."))
        kind.redact(target, case=case, moderator=moderator, title=title, body=body)
        audit(
            moderator=moderator,
            action="redact_approve",
            target=target,
            reason=reason or _("personal data removed"),
        )
        _resolve(case, moderator=moderator, resolution="redacted")
    return case


def user_suspend(*, user, moderator, until: datetime, reason: str) -> None:
    """Stop someone posting until a date; their open sockets close at once."""
    _require_moderator(moderator)
    if user.is_moderator:
        raise ValidationError(_("Moderators cannot be suspended here."))
    if until <= timezone.now():
        raise ValidationError(_("Choose a date in the future."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for the suspension."))
    with transaction.atomic():
        get_user_model().objects.filter(pk=user.pk).update(suspended_until=until)
        sessionuser.invalidate()  # the notice and closed forms on their next page
        AuditEntry.objects.create(
            moderator=moderator,
            action="suspend",
            content_type=ContentType.objects.get_for_model(get_user_model()),
            object_id=user.pk,
            object_repr=f"{user.name} <{user.email}> until {until:%Y-%m-%d %H:%M}",
            reason=reason,
        )
        transaction.on_commit(lambda: sessions_revoke(user_id=user.pk))


def post_flag(*, post: Model, user, reason: str, note: str = "") -> bool:
    """Flag a post once; enough flags hide it until a moderator decides.

    Flaggers are never shown to the author. Returns False for a repeat flag.
    """
    flagging = registry.kind_of(post).flagging
    require_can_post(user)
    if post.author_id == user.pk:
        raise ValidationError(_("You cannot flag your own post."))
    if flagging is None or not flagging.can_flag(post):
        raise ValidationError(_("This post is not public."))
    rate_limit(user=user, action="flag")
    content_type = ContentType.objects.get_for_model(post)
    with transaction.atomic():
        try:
            with transaction.atomic():
                Flag.objects.create(
                    content_type=content_type,
                    object_id=post.pk,
                    user=user,
                    reason=reason,
                    note=note[:500],
                )
        except IntegrityError:
            return False
        locked = type(post).objects.select_for_update().get(pk=post.pk)
        count = Flag.objects.filter(content_type=content_type, object_id=post.pk).count()
        case = Case.objects.filter(
            content_type=content_type, object_id=post.pk, resolved_at__isnull=True
        ).first()
        case, created = _open_case(
            target=locked, kind=case.kind if case else Case.Kind.FLAGGED, reasons=[reason]
        )
        if flagging.is_public(locked) and count >= settings.SHUKANG_FLAGS_TO_HIDE:
            flagging.hide(locked)
        if created:
            _announce_case(case, locked)
    return True


def blocked_term_add(*, term: str, moderator) -> BlockedTerm:
    _require_moderator(moderator)
    term = term.strip()
    if not term:
        raise ValidationError(_("Enter a word or phrase."))
    blocked, _created = BlockedTerm.objects.get_or_create(
        term=term, defaults={"created_by": moderator}
    )
    audit(moderator=moderator, action="word_added", reason=term)
    return blocked


def blocked_term_remove(*, term: BlockedTerm, moderator) -> None:
    _require_moderator(moderator)
    audit(moderator=moderator, action="word_removed", reason=term.term)
    term.delete()
