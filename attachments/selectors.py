"""Who may see which attachment: the asker, verified physicians once it is safe, moderators."""

import base64
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import user_is_verified_doctor
from attachments.models import Attachment
from forum.models import Question


def visible_to(viewer) -> QuerySet[Attachment]:
    """The attachments ``viewer`` may open; none at all for visitors and other patients.

    Authors see theirs in every state (a failed one too, to know to send it
    again); moderators every one that holds an image; verified physicians
    only those made safe and covered.
    """
    rows = Attachment.objects.exclude(state=Attachment.State.REMOVED)
    if not viewer.is_authenticated:
        return rows.none()
    if viewer.is_moderator:
        return rows.filter(Q(owner=viewer) | ~Q(state=Attachment.State.FAILED))
    if user_is_verified_doctor(viewer):
        return rows.filter(Q(owner=viewer) | Q(state=Attachment.State.READY))
    return rows.filter(owner=viewer)


def attachment_get_for_viewer(*, key, viewer) -> Attachment:
    """The attachment if ``viewer`` may open it and its question is open to them; else 404.

    A 404, never a 403: a stranger learns nothing, not even that it exists.
    """
    attachment = visible_to(viewer).select_related("question", "owner").filter(key=key).first()
    if attachment is None:
        raise Http404
    if not Question.objects.visible_to(viewer).filter(pk=attachment.question_id).exists():
        raise Http404
    return attachment


@dataclass
class QuestionAttachments:
    """What a question page shows of its attachments to one reader."""

    shown: list[Attachment] = field(default_factory=list)  # on the question itself
    by_reply: dict[int, list[Attachment]] = field(default_factory=dict)
    shared: int = 0  # images the asker shared with physicians, the count everyone sees

    @property
    def waiting(self) -> bool:
        """Whether any shown image is still with the worker (the page checks again)."""
        shown = self.shown + [a for rows in self.by_reply.values() for a in rows]
        return any(a.state == Attachment.State.PROCESSING for a in shown)


def _may_see(attachment: Attachment, viewer, *, is_doctor: bool) -> bool:
    if not viewer.is_authenticated:
        return False
    if attachment.owner_id == viewer.pk:
        return True  # a failed one too, so its author knows to send it again
    if attachment.state == Attachment.State.FAILED:
        return False
    if viewer.is_moderator:
        return True
    return is_doctor and attachment.state == Attachment.State.READY


def attachments_annotations() -> dict:
    """For the question's own query: whether it has attachments, and how many are shared.

    With them a page without attachments, or a visitor's, costs no query more.
    """
    live = Attachment.objects.filter(question=OuterRef("pk")).exclude(
        state=Attachment.State.REMOVED
    )
    shared = (
        Attachment.objects.filter(question=OuterRef("pk"), state=Attachment.State.READY)
        .order_by()
        .values("question")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return {
        "attachments_present": Exists(live),
        "attachments_shared": Coalesce(Subquery(shared), 0),
    }


def for_question_page(*, question: Question, viewer) -> QuestionAttachments:
    """The question's attachments as ``viewer`` may see them, in at most one query.

    The asker sees theirs in every state, verified physicians the ready
    ones, moderators all; everyone else only the count of ready ones.
    """
    if getattr(question, "attachments_present", True) is False:
        return QuestionAttachments()
    if not viewer.is_authenticated and hasattr(question, "attachments_shared"):
        return QuestionAttachments(shared=question.attachments_shared)
    rows = list(
        Attachment.objects.filter(question=question)
        .exclude(state=Attachment.State.REMOVED)
        .only("key", "state", "owner_id", "reply_id", "width", "height", "findings", "question_id")
        .order_by("reply_id", "position", "pk")
    )
    result = QuestionAttachments(shared=sum(a.state == Attachment.State.READY for a in rows))
    if not rows or not viewer.is_authenticated:
        return result
    is_doctor = user_is_verified_doctor(viewer)
    for attachment in rows:
        if not _may_see(attachment, viewer, is_doctor=is_doctor):
            continue
        if attachment.reply_id is None:
            result.shown.append(attachment)
        else:
            result.by_reply.setdefault(attachment.reply_id, []).append(attachment)
    return result


def shared_counts(question_ids) -> dict[int, int]:
    """How many images each question's asker has shared with physicians."""
    rows = (
        Attachment.objects.filter(question_id__in=question_ids, state=Attachment.State.READY)
        .values("question_id")
        .annotate(n=Count("pk"))
    )
    return {row["question_id"]: row["n"] for row in rows}


def export_for_user(*, user) -> list[dict]:
    """The person's own images for their data export, each file inline as a data URL.

    Only what they shared themselves: never another person's images.
    """
    rows = []
    for attachment in Attachment.objects.filter(owner=user).exclude(state=Attachment.State.REMOVED):
        entry = {
            "id": str(attachment.key),
            "question": attachment.question_id,
            "reply": attachment.reply_id,
            "state": attachment.state,
            "created": attachment.created_at.isoformat(),
            "width": attachment.width,
            "height": attachment.height,
            "image": None,
        }
        field_file = attachment.image or attachment.original
        if field_file:
            try:
                with field_file.open("rb") as handle:
                    data = handle.read()
            except OSError:
                data = None
            if data is not None:
                kind = "image/jpeg" if attachment.image else "application/octet-stream"
                entry["image"] = f"data:{kind};base64,{base64.b64encode(data).decode()}"
        rows.append(entry)
    return rows
