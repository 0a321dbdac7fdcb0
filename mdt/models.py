"""The MDT online: hard cases discussed by several disciplines, agreed on once.

A ``Case`` is a de-identified summary a verified physician opens, on its own
or from a patient's question; it is linked to the question only when the
asker consents (``Consent``). Cases are put on the agenda of a ``Session``
(a physicians-only meeting with a chair, a recorder and invited physicians).
Each invited physician writes one ``Opinion``, kept in versions; the chair or
recorder writes the ``Consensus``, and marking it final freezes the case's
opinions. ``AuditEvent`` records every view and every change. Nothing here
is ever deleted: a case is closed.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Discipline


class Session(models.Model):
    title = models.CharField(pgettext_lazy("meeting", "title"), max_length=150)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    submission_deadline = models.DateTimeField(
        _("cases submitted by"),
        help_text=_("Case owners can put cases on the agenda until then; later, ask a moderator."),
    )
    location = models.CharField(
        _("place or meeting link"),
        max_length=200,
        blank=True,
        help_text=_("A room, or the address of the video meeting."),
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="mdt_sessions_chaired",
        verbose_name=_("chair"),
    )
    recorder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="mdt_sessions_recorded",
        verbose_name=_("recorder"),
    )
    invited = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="mdt_sessions_invited",
        verbose_name=_("invited physicians"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("MDT session")
        verbose_name_plural = _("MDT sessions")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("mdt:session-detail", args=[self.pk])

    @property
    def accepts_cases(self) -> bool:
        return timezone.now() < self.submission_deadline


class Case(models.Model):
    """One patient's situation, without their identity, and the question for the board."""

    class Stage(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        SCHEDULED = "scheduled", _("Scheduled")
        DISCUSSED = "discussed", _("Discussed")
        CONSENSUS = "consensus", _("Consensus")
        FOLLOW_UP = "follow_up", _("Follow-up due")
        CLOSED = "closed", _("Closed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mdt_cases"
    )
    title = models.CharField(
        pgettext_lazy("case", "title"),
        max_length=150,
        help_text=_("A short label without the patient's name, such as “Pancreatic NET, G2”."),
    )
    tumour_site = models.CharField(_("tumour site"), max_length=200)
    histology = models.CharField(_("histology"), max_length=200)
    grade = models.CharField(
        _("grade"),
        max_length=200,
        blank=True,
        help_text=_("Ki-67 index, mitotic count and differentiation."),
    )
    stage = models.CharField(_("stage"), max_length=200, blank=True)
    functional_status = models.CharField(
        _("functional status"),
        max_length=200,
        blank=True,
        help_text=_("Hormone syndrome if any, and performance status (ECOG)."),
    )
    prior_treatments = models.TextField(
        _("prior treatments"),
        blank=True,
        max_length=4000,
        help_text=_("With dates relative to diagnosis, such as “month 3: resection”."),
    )
    imaging = models.TextField(_("imaging"), blank=True, max_length=4000)
    pathology = models.TextField(_("pathology"), blank=True, max_length=4000)
    labs = models.TextField(_("laboratory findings"), blank=True, max_length=4000)
    board_question = models.TextField(_("question for the board"), max_length=2000)
    disciplines_needed = models.ManyToManyField(
        Discipline,
        related_name="+",
        verbose_name=_("disciplines needed"),
    )
    session = models.ForeignKey(
        Session,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("session"),
    )
    # Set only when the asker consents; the question is never copied in.
    question = models.ForeignKey(
        "forum.Question",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mdt_cases",
    )
    follow_up_on = models.DateField(
        _("follow up on"),
        null=True,
        blank=True,
        help_text=_("The case's owner is reminded on this day."),
    )
    follow_up_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The summary's text fields, in the order the page shows them.
    SUMMARY_FIELDS = (
        "title",
        "tumour_site",
        "histology",
        "grade",
        "stage",
        "functional_status",
        "prior_treatments",
        "imaging",
        "pathology",
        "labs",
        "board_question",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("MDT case")
        verbose_name_plural = _("MDT cases")
        indexes = [
            models.Index(
                fields=["follow_up_on"],
                condition=models.Q(follow_up_reminded_at__isnull=True, closed_at__isnull=True),
                name="mdt_case_follow_up_due",
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("mdt:case-detail", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def stage_on(self, *, today, consensus=None) -> str:
        """Where the case is on the board; ``consensus`` is the case's, when it has one."""
        if self.is_closed:
            return self.Stage.CLOSED
        if consensus is not None and consensus.is_final:
            if self.follow_up_on is not None and self.follow_up_on <= today:
                return self.Stage.FOLLOW_UP
            return self.Stage.CONSENSUS
        if self.session_id is None:
            return self.Stage.SUBMITTED
        if self.session.starts_at <= timezone.now():
            return self.Stage.DISCUSSED
        return self.Stage.SCHEDULED


class Consent(models.Model):
    """The asker's answer to "may this case refer to your question?"."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the asker")
        GIVEN = "given", _("Given")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    question = models.ForeignKey(
        "forum.Question", on_delete=models.CASCADE, related_name="mdt_consents"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    asked_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "question"], name="mdt_one_consent_per_link")
        ]
        indexes = [models.Index(fields=["question", "state"], name="mdt_consent_question")]

    def __str__(self):
        return f"{self.case_id} → {self.question_id}: {self.state}"


class Opinion(models.Model):
    """One invited physician's view of one case; each save is kept as a ``OpinionVersion``."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="opinions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mdt_opinions"
    )
    # The author's discipline when they wrote it.
    discipline = models.ForeignKey(
        Discipline, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("your opinion"), max_length=10_000)
    body_html = models.TextField(editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "author"], name="mdt_one_opinion_per_author")
        ]

    def __str__(self):
        return f"{self.author_id} on {self.case_id} (v{self.version})"


class OpinionVersion(models.Model):
    opinion = models.ForeignKey(Opinion, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["opinion", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["opinion", "version"], name="mdt_one_row_per_opinion_version"
            )
        ]

    def __str__(self):
        return f"{self.opinion_id} v{self.version}"


class Consensus(models.Model):
    """The board's one recommendation for a case, with its reasons; final freezes the case."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="consensus")
    recommendation = models.TextField(_("recommendation"), max_length=10_000)
    recommendation_html = models.TextField(editable=False)
    rationale = models.TextField(_("rationale"), max_length=10_000)
    rationale_html = models.TextField(editable=False)
    references = models.TextField(
        _("guideline references"),
        blank=True,
        max_length=4000,
        help_text=_("One per line: a guideline and its section, or a link."),
    )
    dissent = models.TextField(
        _("dissent"),
        blank=True,
        max_length=4000,
        help_text=_("Who disagreed and why, if anyone did."),
    )
    summary_en = models.TextField(
        _("for the patient, in English"),
        blank=True,
        max_length=4000,
        help_text=_("The recommendation in plain words, shown on the patient's question."),
    )
    summary_zh = models.TextField(
        _("for the patient, in Chinese"),
        blank=True,
        max_length=4000,
        help_text=_("The recommendation in plain words, shown on the patient's question."),
    )
    # The disciplines whose opinions the board had when it was made final,
    # as {"en": ..., "zh-hans": ...}: the patient's page shows them without a query.
    disciplines = models.JSONField(default=list, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    final_at = models.DateTimeField(null=True, blank=True)
    final_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("MDT consensus")
        verbose_name_plural = _("MDT consensus records")

    def __str__(self):
        return f"Consensus on {self.case_id} (v{self.version})"

    @property
    def is_final(self) -> bool:
        return self.final_at is not None

    @property
    def summary(self) -> str:
        """The plain-language version in the reader's language, or the other one."""
        if (get_language() or "").startswith("zh"):
            return self.summary_zh or self.summary_en
        return self.summary_en or self.summary_zh

    @property
    def discipline_labels(self) -> list[str]:
        language = "zh-hans" if (get_language() or "").startswith("zh") else "en"
        return [names.get(language) or names.get("en", "") for names in self.disciplines]

    @property
    def discipline_text(self) -> str:
        """The disciplines as a list in the reader's language: 、 between them in Chinese."""
        separator = "、" if (get_language() or "").startswith("zh") else ", "
        return separator.join(self.discipline_labels)

    @property
    def reference_lines(self) -> list[str]:
        return [line.strip() for line in self.references.splitlines() if line.strip()]


class ConsensusVersion(models.Model):
    consensus = models.ForeignKey(Consensus, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["consensus", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["consensus", "version"], name="mdt_one_row_per_consensus_version"
            )
        ]

    def __str__(self):
        return f"{self.consensus_id} v{self.version}"


class AuditEvent(models.Model):
    """Who did what to a case, and when: every view and every change, for moderators."""

    class Action(models.TextChoices):
        VIEWED = "viewed", _("Viewed the case")
        EXPORTED = "exported", _("Exported the case")
        OPENED = "opened", _("Opened the case")
        EDITED = "edited", _("Changed the summary")
        SCHEDULED = "scheduled", _("Put the case on a session's agenda")
        UNSCHEDULED = "unscheduled", _("Took the case off the agenda")
        OPINION_SAVED = "opinion_saved", _("Saved an opinion")
        CONSENSUS_SAVED = "consensus_saved", _("Saved the consensus draft")
        CONSENSUS_FINAL = "consensus_final", _("Made the consensus final")
        FOLLOW_UP_SET = "follow_up_set", _("Set the follow-up date")
        CONSENT_ASKED = "consent_asked", _("Asked the asker's consent")
        CONSENT_GIVEN = "consent_given", _("The asker consented")
        CONSENT_REFUSED = "consent_refused", _("The asker refused")
        CLOSED = "closed", _("Closed the case")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["case", "-created_at"], name="mdt_audit_case")]

    def __str__(self):
        return f"{self.action} on {self.case_id} by {self.actor_id}"

    @property
    def detail_items(self) -> list[tuple[str, str]]:
        """The details in the reader's words: ("Session", "7"), ("Version", "2")."""
        labels = {
            "question": _("Question"),
            "session": _("Session"),
            "opinion": _("Opinion"),
            "version": _("Version"),
            "fields": _("Fields changed"),
            "on": _("Day"),
        }
        items = []
        for key, value in self.detail.items():
            if key == "fields":
                value = ", ".join(str(Case._meta.get_field(name).verbose_name) for name in value)
            items.append((labels.get(key, key), "–" if value in (None, "") else str(value)))
        return items
