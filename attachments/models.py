"""Reports and images a patient shares with physicians only."""

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def private_storage():
    """Where attachments live: never under a public URL (settings.STORAGES["attachments"])."""
    return storages["attachments"]


def _stored_name(instance, filename: str) -> str:
    # A random name, so nothing about the patient or the file is in it.
    return f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{filename[filename.rfind('.') :]}"


class Attachment(models.Model):
    """One image on a question or on a reply under the asker's own question.

    The upload is kept only until the worker has made it safe: re-encoded
    without EXIF, GPS or trailing data, with a thumbnail, and read by OCR for
    personal data. Physicians see it only once it is ``READY``.
    """

    class State(models.TextChoices):
        PROCESSING = "processing", _("Being made safe")
        NEEDS_COVER = "needs_cover", _("Waiting for you to cover personal data")
        REVIEW = "review", _("Waiting for a moderator")
        READY = "ready", _("Shared with physicians")
        REMOVED = "removed", _("Removed")
        FAILED = "failed", _("Could not be processed")

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    question = models.ForeignKey(
        "forum.Question", on_delete=models.CASCADE, related_name="attachments"
    )
    reply = models.ForeignKey(
        "forum.Reply", on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments"
    )
    state = models.CharField(max_length=16, choices=State, default=State.PROCESSING)
    original = models.FileField(storage=private_storage, upload_to=_stored_name, blank=True)
    image = models.FileField(storage=private_storage, upload_to=_stored_name, blank=True)
    thumbnail = models.FileField(storage=private_storage, upload_to=_stored_name, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    # What OCR found: [{"kind": "phone", "box": [left, top, width, height]}]; never the text.
    findings = models.JSONField(default=list, blank=True)
    # False when OCR could not run, so a moderator looks instead.
    ocr_checked = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["question", "position", "pk"]
        indexes = [models.Index(fields=["question", "state"], name="attachment_question_state")]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return f"attachment {self.pk} on question {self.question_id}"

    @property
    def is_ready(self) -> bool:
        return self.state == self.State.READY

    @property
    def is_settled(self) -> bool:
        """No longer waiting for the worker."""
        return self.state != self.State.PROCESSING

    @property
    def thumb_width(self) -> int:
        return self._thumb_size()[0]

    @property
    def thumb_height(self) -> int:
        return self._thumb_size()[1]

    def _thumb_size(self) -> tuple[int, int]:
        from attachments.imaging import THUMB_SIDE

        longest = max(self.width, self.height, 1)
        scale = min(1, THUMB_SIDE / longest)
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))

    def files(self) -> list:
        return [f for f in (self.original, self.image, self.thumbnail) if f]
