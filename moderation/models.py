from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation import registry


class FlagReason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    ABUSE = "abuse", _("Abusive or disrespectful")
    MISINFORMATION = "misinformation", _("Medical misinformation")
    PERSONAL_DATA = "personal_data", _("Personal data")
    OTHER = "other", _("Something else")


class Case(models.Model):
    """Something a moderator must look at: a held post, a flagged post, an application."""

    class Kind(models.TextChoices):
        HELD = "held", _("Held for review")
        FLAGGED = "flagged", _("Flagged")
        APPLICATION = "application", _("Physician application")

    kind = models.CharField(max_length=16, choices=Kind)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["resolved_at", "created_at"], name="case_open_oldest")]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_case_per_object",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.content_type.model} {self.object_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class Flag(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=FlagReason)
    note = models.CharField(_("note for the moderators"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"], name="flag_once_per_person"
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.reason} flag on {self.content_type.model} {self.object_id}"


class BlockedTerm(models.Model):
    """A word or phrase that holds a post for review; moderators keep the list."""

    term = models.CharField(_("word or phrase"), max_length=80, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term


# Moderation's own actions; each app registers the labels of its own (moderation.registry).
ACTION_LABELS = {
    "approve": _("Approved"),
    "reject": _("Rejected"),
    "redact_approve": _("Redacted and approved"),
    "suspend": _("Suspended"),
    "word_added": _("Word added to the list"),
    "word_removed": _("Word removed from the list"),
}


class AuditEntry(models.Model):
    """One moderator action; append-only (SPEC section 5)."""

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=32)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True)
    object_id = models.PositiveBigIntegerField(null=True)
    object_repr = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionDenied("The audit log cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("The audit log cannot be changed.")

    @property
    def action_label(self) -> str:
        """The action in the reader's language; the stored code where none is known."""
        labels = {**ACTION_LABELS, **registry.action_labels()}
        return str(labels.get(self.action, self.action))
