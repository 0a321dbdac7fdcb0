from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def user_is_organiser(user) -> bool:
    """Whether the user runs salon events: moderators and staff (SPEC section 1)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_moderator or user.is_staff)
    )


class EventQuerySet(models.QuerySet):
    def published(self):
        return self.filter(state=Event.State.PUBLISHED)

    def listed(self):
        """What everyone sees: published events, and cancelled ones so attendees learn of it."""
        return self.filter(state__in=[Event.State.PUBLISHED, Event.State.CANCELLED])

    def upcoming(self, now=None):
        """Not over yet: an event running now is still upcoming."""
        return self.filter(ends_at__gt=now or timezone.now())

    def past(self, now=None):
        return self.filter(ends_at__lte=now or timezone.now())


class Event(models.Model):
    """A Shu-Kang Salon meeting, in the hospital or online."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(pgettext_lazy("event", "title"), max_length=150)
    description = models.TextField(
        _("description"),
        blank=True,
        max_length=10_000,
        help_text=_("What the meeting is about and who it is for. Markdown is allowed."),
    )
    description_html = models.TextField(editable=False, default="")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    location = models.CharField(
        _("place"),
        max_length=200,
        blank=True,
        help_text=_("Room and building, or leave empty for an online meeting."),
    )
    is_online = models.BooleanField(_("online meeting"), default=False)
    online_url = models.URLField(
        _("meeting link"),
        blank=True,
        max_length=500,
        help_text=_("Shown only to people with a confirmed place."),
    )
    capacity = models.PositiveIntegerField(_("places"))
    has_waitlist = models.BooleanField(
        _("waitlist"),
        default=True,
        help_text=_("When the event is full, later sign-ups wait for a place."),
    )
    waitlist_limit = models.PositiveIntegerField(
        _("waitlist places"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no limit."),
    )
    state = models.CharField(_("state"), max_length=12, choices=State, default=State.DRAFT)
    hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        limit_choices_to={"physician_profile__status": "verified"},
        related_name="hosted_salon_events",
        verbose_name=_("host physicians"),
    )
    category = models.ForeignKey(
        "forum.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("forum topic"),
        help_text=_("Where the answered questions of this event are published in the forum."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    # Kept by the services under the event's row lock, so pages show counts
    # without aggregates and the capacity rule reads one row.
    confirmed_count = models.PositiveIntegerField(default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(default=0, editable=False)
    # Raised on every change of time or place, as iCalendar's SEQUENCE asks.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("salon event")
        verbose_name_plural = _("salon events")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="salon_event_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_count__lte=models.F("capacity")),
                name="salon_event_confirmed_within_capacity",
            ),
        ]
        indexes = [models.Index(fields=["state", "ends_at"], name="salon_event_listing")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("salon:event-detail", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED

    @property
    def is_cancelled(self) -> bool:
        return self.state == self.State.CANCELLED

    @property
    def is_past(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        return self.is_published and self.starts_at <= timezone.now() < self.ends_at

    @property
    def is_full(self) -> bool:
        return self.confirmed_count >= self.capacity

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.confirmed_count, 0)

    @property
    def waitlist_open(self) -> bool:
        return self.has_waitlist and (
            self.waitlist_limit is None or self.waitlist_count < self.waitlist_limit
        )


class RSVP(models.Model):
    """One person's place at an event; one row per person, reused if they sign up again."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("On the waitlist")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="rsvps", verbose_name=_("event")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="salon_rsvps",
        verbose_name=_("person"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status)
    # Order on the waitlist: the first to join is the first promoted.
    position = models.PositiveIntegerField(_("waitlist position"), null=True, blank=True)
    created_at = models.DateTimeField(_("signed up"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The start time the reminder was sent for: a second run sends nothing
    # twice, and a moved event is reminded again for its new time.
    reminded_for = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("RSVP")
        verbose_name_plural = _("RSVPs")
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="salon_rsvp_once_per_person")
        ]
        indexes = [
            models.Index(fields=["event", "status", "position"], name="salon_rsvp_event_status")
        ]

    def __str__(self):
        return f"{self.user_id} → {self.event_id}: {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.CANCELLED


class LiveQuestion(models.Model):
    """A short question for the hosts, asked before or during an event."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="questions", verbose_name=_("event")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="salon_questions",
        verbose_name=_("author"),
    )
    body = models.TextField(_("question"), max_length=500)
    body_html = models.TextField(editable=False)
    is_anonymous = models.BooleanField(_("ask anonymously"), default=False)
    vote_count = models.PositiveIntegerField(default=0)
    is_answered = models.BooleanField(_("answered"), default=False)
    answer = models.TextField(
        _("answer"),
        blank=True,
        max_length=10_000,
        help_text=_(
            "What the host said, published with the question in the forum after the event."
        ),
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    forum_question = models.OneToOneField(
        "forum.Question",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published as"),
    )
    # Set once the host's answer is in the forum too; until then the forum
    # question may be waiting for a moderator.
    forum_answer = models.OneToOneField(
        "forum.Answer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answer in the forum"),
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)

    class Meta:
        # Open questions first, most wanted on top; answered ones move down.
        ordering = ["is_answered", "-vote_count", "created_at", "pk"]
        verbose_name = _("live question")
        verbose_name_plural = _("live questions")
        indexes = [
            models.Index(fields=["event", "is_answered", "-vote_count"], name="salon_question_room")
        ]

    def __str__(self):
        return self.body[:60]

    def get_absolute_url(self):
        return f"{reverse('salon:event-live', args=[self.event_id])}#live-question-{self.pk}"


class Vote(models.Model):
    """One person's upvote of a live question."""

    question = models.ForeignKey(LiveQuestion, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "user"], name="salon_vote_once_per_person")
        ]

    def __str__(self):
        return f"Vote {self.user_id} → live question {self.question_id}"
