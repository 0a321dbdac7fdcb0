"""Every write to attachments: storing an upload, making it safe, covering, removing.

An upload is stored as it came only until the worker has made it safe
(``attachment_process``); the original bytes are deleted then. Nothing in
here puts an attachment in a notification, a socket message or the search.
"""

import logging
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from attachments import imaging
from attachments.models import Attachment
from core.tasks import task_enqueue
from forum import listcache
from moderation import services as moderation
from notifications.models import Verb
from notifications.services import notify

logger = logging.getLogger(__name__)

MAX_PER_POST = 6
# How much of each box OCR found the author's boxes must cover together.
COVERED_SHARE = 0.8
MAX_BOXES = 50

_EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "heic": ".heic"}


def attachments_add(*, owner, question, uploads: list[imaging.Upload], reply=None) -> list:
    """Store checked uploads on a question (or a reply under it) and queue each to be made safe.

    Called inside the post's own transaction: the rows and their tasks
    commit with the post or not at all. Only the asker may share images.
    """
    if not uploads:
        return []
    if question.author_id != owner.pk:
        raise PermissionDenied(_("Only the person who asked can share reports on this question."))
    if len(uploads) > MAX_PER_POST:
        raise ValidationError(
            {"attachments": _("Attach at most %(n)s images.") % {"n": MAX_PER_POST}}
        )
    from attachments.tasks import attachment_process

    saved = []
    try:
        for position, upload in enumerate(uploads):
            attachment = Attachment(
                question=question,
                reply=reply,
                owner=owner,
                position=position,
                width=upload.width,
                height=upload.height,
            )
            attachment.original.save(
                f"upload{_EXTENSIONS.get(upload.kind, '.bin')}",
                ContentFile(upload.data),
                save=False,
            )
            saved.append(attachment)
            attachment.save()
            task_enqueue(attachment_process, attachment_id=attachment.pk)
    except BaseException:
        for attachment in saved:
            _delete_now(attachment.original.storage, [f.name for f in attachment.files()])
        raise
    listcache.invalidate()
    return saved


def _delete_now(storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # already gone, or storage down
            logger.warning("Could not delete %s", name, exc_info=True)


def _store_safe(attachment: Attachment, safe: imaging.Safe) -> list[str]:
    """Save the safe image and thumbnail; returns the names of the files they replace."""
    replaced = [f.name for f in (attachment.original, attachment.image, attachment.thumbnail) if f]
    attachment.image.save("image.jpg", ContentFile(safe.image), save=False)
    attachment.thumbnail.save("thumb.jpg", ContentFile(safe.thumbnail), save=False)
    attachment.original = ""
    attachment.width, attachment.height = safe.width, safe.height
    return replaced


def _delete_names(storage, names: list[str]) -> None:
    """Delete the files once the rows that named them are committed without them."""
    transaction.on_commit(partial(_delete_now, storage, names))


def attachment_process(*, attachment_id: int) -> str | None:
    """Make one upload safe; run by the worker. Returns the state it ends in.

    Re-encodes it (orientation applied, EXIF, GPS, ICC and trailing data
    gone), makes the thumbnail, deletes the upload, then reads it with OCR.
    Personal data found keeps it with its author until they cover it; where
    OCR cannot run, a moderator looks instead. The slow part runs outside any
    transaction, so no lock is held while it works. Safe to run again: a
    settled attachment is left alone, and work finished for an attachment
    deleted meanwhile is thrown away.
    """
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or attachment.state != Attachment.State.PROCESSING:
        return None
    try:
        with attachment.original.open("rb") as upload:
            safe = imaging.make_safe(upload.read())
    except (imaging.ImageRefused, OSError, ValueError) as error:
        logger.warning("Attachment %s could not be made safe: %s", attachment.pk, error)
        safe = None
    regions, ocr_checked = [], False
    if safe is not None and imaging.ocr_available():
        try:
            regions, ocr_checked = imaging.find_private(imaging.read_text(safe.image)), True
        except Exception:  # Tesseract failed or timed out: a moderator looks instead
            logger.exception("OCR failed for attachment %s", attachment.pk)
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().filter(pk=attachment_id).first()
        if attachment is None or attachment.state != Attachment.State.PROCESSING:
            return None
        storage = attachment.original.storage
        if safe is None:
            names = [f.name for f in attachment.files()]
            attachment.original = ""
            attachment.state = Attachment.State.FAILED
            attachment.save()
            _delete_names(storage, names)
            listcache.invalidate()  # moderators see it failed on the question page
            return attachment.state
        replaced = _store_safe(attachment, safe)
        attachment.ocr_checked = ocr_checked
        attachment.findings = [
            {"kind": r.kind, "box": _clamped(r.box, safe.width, safe.height)} for r in regions
        ]
        if not ocr_checked:
            attachment.state = Attachment.State.REVIEW
        elif regions:
            attachment.state = Attachment.State.NEEDS_COVER
        else:
            attachment.state = Attachment.State.READY
        attachment.save()
        _delete_names(storage, replaced)
        if attachment.state == Attachment.State.NEEDS_COVER:
            _tell_owner_to_cover(attachment)
        elif attachment.state == Attachment.State.REVIEW:
            moderation.case_open_for_review(target=attachment, reasons=["no_ocr"])
        # Every state shows on the question page: to physicians once ready, to moderators always.
        listcache.invalidate()
    return attachment.state


def _clamped(box, width: int, height: int) -> list[int]:
    left, top = max(0, int(box[0])), max(0, int(box[1]))
    right, bottom = min(width, int(box[0] + box[2])), min(height, int(box[1] + box[3]))
    return [left, top, max(0, right - left), max(0, bottom - top)]


def _tell_owner_to_cover(attachment: Attachment) -> None:
    """The author may have left the page: the bell (and e-mail) say a photo waits for them.

    Only the question's address and title: never the image or its own address.
    """
    notify(
        recipients=[attachment.owner],
        verb=Verb.ATTACHMENT_NEEDS_COVER,
        url=attachment.question.get_absolute_url(),
        data={"title": attachment.question.title},
        in_worker=True,
    )


def tell_owner_reviewed(attachment: Attachment, *, approved: bool, reason: str = "") -> None:
    """A moderator decided on the author's photo; only the question's address and title go."""
    notify(
        recipients=[attachment.owner],
        verb=Verb.ATTACHMENT_REVIEWED,
        url=attachment.question.get_absolute_url(),
        data={"title": attachment.question.title, "approved": approved, "reason": reason},
    )


def _require_owner_or_moderator(attachment: Attachment, user) -> None:
    if not user.is_authenticated or (attachment.owner_id != user.pk and not user.is_moderator):
        raise PermissionDenied(_("Only the person who shared this image can change it."))


def _clean_boxes(boxes, *, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Boxes as whole pixels inside the image; a clear error for anything else."""
    if not isinstance(boxes, list) or len(boxes) > MAX_BOXES:
        raise ValidationError(_("The boxes could not be read. Draw them again."))
    cleaned = []
    for box in boxes:
        if (
            not isinstance(box, list | tuple)
            or len(box) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
        ):
            raise ValidationError(_("The boxes could not be read. Draw them again."))
        left, top, box_width, box_height = _clamped(box, width, height)
        if box_width >= 2 and box_height >= 2:
            cleaned.append((left, top, box_width, box_height))
    return cleaned


def _covered_share(box, boxes) -> float:
    """How much of ``box`` the union of ``boxes`` covers (0..1), counted on a pixel grid."""
    left, top, width, height = box
    if width <= 0 or height <= 0:
        return 1.0
    step = max(1, min(width, height) // 20)
    total = covered = 0
    for y in range(top, top + height, step):
        for x in range(left, left + width, step):
            total += 1
            if any(bx <= x < bx + bw and by <= y < by + bh for bx, by, bw, bh in boxes):
                covered += 1
    return covered / total if total else 1.0


def attachment_cover(*, attachment: Attachment, user, boxes) -> Attachment:
    """Burn black boxes into the image; the uncovered version is deleted.

    The author must cover everything OCR found (or ask a moderator instead);
    a moderator may cover as they judge. A cover by the author shares the
    image with physicians; so does a moderator's, and it is audited.
    """
    _require_owner_or_moderator(attachment, user)
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if attachment.state not in (
            Attachment.State.NEEDS_COVER,
            Attachment.State.REVIEW,
            Attachment.State.READY,
        ):
            raise ValidationError(_("This image cannot be covered now."))
        by_moderator = user.is_moderator and attachment.owner_id != user.pk
        if attachment.state == Attachment.State.REVIEW and not by_moderator:
            raise ValidationError(_("A moderator is looking at this image. You will be told."))
        cleaned = _clean_boxes(boxes, width=attachment.width, height=attachment.height)
        if not cleaned:
            raise ValidationError(_("Draw at least one box over what should be hidden."))
        if not by_moderator and any(
            _covered_share(finding["box"], cleaned) < COVERED_SHARE
            for finding in attachment.findings
        ):
            raise ValidationError(
                _(
                    "Some of what we found is not covered yet. Cover every marked place, "
                    "or ask a moderator to look."
                )
            )
        with attachment.image.open("rb") as current:
            safe = imaging.burn(current.read(), cleaned)
        storage = attachment.image.storage
        replaced = _store_safe(attachment, safe)
        attachment.findings = []
        attachment.state = Attachment.State.READY
        attachment.save()
        _delete_names(storage, replaced)
        listcache.invalidate()
        if by_moderator:
            tell_owner_reviewed(attachment, approved=True)
            moderation.audit(moderator=user, action="attachment_cover", target=attachment)
            moderation.case_close_for(target=attachment, moderator=user, resolution="covered")
    return attachment


def attachment_request_review(*, attachment: Attachment, user) -> Attachment:
    """The author asks a moderator to look instead of covering it themselves."""
    _require_owner_or_moderator(attachment, user)
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if attachment.state != Attachment.State.NEEDS_COVER:
            raise ValidationError(_("This image is not waiting for you."))
        attachment.state = Attachment.State.REVIEW
        attachment.save(update_fields=["state", "updated_at"])
        listcache.invalidate()  # as moderators see it on the question page
        moderation.case_open_for_review(target=attachment, reasons=["personal_data"])
    return attachment


def attachment_publish(*, attachment: Attachment) -> None:
    """A moderator's approval: physicians may see it as it is."""
    attachment.state = Attachment.State.READY
    attachment.findings = []
    attachment.save(update_fields=["state", "findings", "updated_at"])
    listcache.invalidate()


def attachment_remove(*, attachment: Attachment, user=None) -> None:
    """Delete the files for good; the row stays, marked removed, for the audit log."""
    if user is not None:
        _require_owner_or_moderator(attachment, user)
    names = [f.name for f in attachment.files()]
    storage = attachment.image.storage
    Attachment.objects.filter(pk=attachment.pk).update(
        state=Attachment.State.REMOVED, original="", image="", thumbnail="", findings=[]
    )
    attachment.state = Attachment.State.REMOVED
    attachment.original = attachment.image = attachment.thumbnail = ""
    _delete_names(storage, names)
    listcache.invalidate()


def attachments_delete(*, attachments) -> int:
    """Delete rows and files of ``attachments`` (a question's or an account's)."""
    rows = list(attachments)
    if not rows:
        return 0
    storage = rows[0].image.storage
    names = [f.name for attachment in rows for f in attachment.files()]
    Attachment.objects.filter(pk__in=[a.pk for a in rows]).delete()
    _delete_names(storage, names)
    return len(rows)


def attachments_delete_for(*, question=None, reply=None, owner=None) -> int:
    """Delete every attachment of a deleted question or reply, or of a deleted account."""
    rows = Attachment.objects.all()
    if question is not None:
        rows = rows.filter(question=question)
    if reply is not None:
        rows = rows.filter(reply=reply)
    if owner is not None:
        rows = rows.filter(owner=owner)
    deleted = attachments_delete(attachments=rows)
    if deleted:
        listcache.invalidate()  # the shared count on the question page
    return deleted
