"""Who answers which tumour group's questions on which day, and the promise to patients.

A ``TumourGroup`` is a forum category the department staffs (gastric,
colorectal, hepatobiliary and pancreatic, GIST, neuroendocrine), with its
answer-time target and its lead. A ``Shift`` puts one physician on duty for
one group on one day of the department's calendar (Asia/Shanghai); one
physician may cover several groups. On a ``Holiday``, or a day nobody is on
duty, every verified physician of the specialty hears of new questions.

``Routing`` is each published question's record: where it went, when its
clock started, who claimed it, when it was reminded and escalated, and when
a physician first answered. The dashboard's figures are read from it.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TumourGroup(models.Model):
    category = models.OneToOneField(
        "forum.Category", on_delete=models.CASCADE, related_name="tumour_group"
    )
    target_hours = models.PositiveSmallIntegerField(
        _("answer within (hours)"),
        default=48,
        help_text=_("The department's promise: a first physician answer within this time."),
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_groups",
        verbose_name=_("group lead"),
    )

    class Meta:
        ordering = ["category__position", "category__name"]
        verbose_name = _("tumour group")
        verbose_name_plural = _("tumour groups")

    def __str__(self):
        return self.category.label


class Shift(models.Model):
    group = models.ForeignKey(TumourGroup, on_delete=models.CASCADE, related_name="shifts")
    day = models.DateField(_("day"))
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts"
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day", "group"]
        constraints = [
            models.UniqueConstraint(fields=["group", "day"], name="one_physician_per_group_day")
        ]
        indexes = [models.Index(fields=["physician", "day"], name="shift_physician_day")]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")

    def __str__(self):
        return f"{self.group} {self.day}: {self.physician_id}"


class Holiday(models.Model):
    day = models.DateField(_("day"), unique=True)
    name = models.CharField(_("name"), max_length=80, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self):
        return f"{self.day} {self.name}"


class Routing(models.Model):
    """One published question on its way to a physician's answer."""

    question = models.OneToOneField(
        "forum.Question", on_delete=models.CASCADE, related_name="routing"
    )
    group = models.ForeignKey(
        TumourGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="routings"
    )
    # The physician on duty it went to; None when it went to the whole specialty.
    on_duty = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="routed_questions",
    )
    # The clock: from publication, not from asking (a held question waits for a moderator first).
    published_at = models.DateTimeField(default=timezone.now)
    target_hours = models.PositiveSmallIntegerField(default=48)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claimed_questions",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    first_answer_at = models.DateTimeField(null=True, blank=True)
    first_answer_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["group", "published_at"], name="routing_group_published"),
            models.Index(
                fields=["published_at"],
                condition=models.Q(first_answer_at__isnull=True),
                name="routing_waiting",
            ),
        ]

    def __str__(self):
        return f"routing of question {self.question_id}"

    @property
    def due_at(self):
        return self.published_at + timedelta(hours=self.target_hours)


class Pass(models.Model):
    """A physician sent a question to another group, with a note for its physicians."""

    question = models.ForeignKey("forum.Question", on_delete=models.CASCADE, related_name="passes")
    from_group = models.ForeignKey(
        TumourGroup, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    to_group = models.ForeignKey(TumourGroup, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.TextField(_("note for the other group"), max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"question {self.question_id} to {self.to_group_id}"
