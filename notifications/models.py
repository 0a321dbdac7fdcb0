from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Verb(models.TextChoices):
    """Every kind of notification (SPEC section 6)."""

    ANSWER = "answer", _("A physician answered a question of yours or one you follow")
    REPLY = "reply", _("Someone replied to your post")
    ACCEPTED = "accepted", _("Your answer was accepted")
    THANKED = "thanked", _("Your answer was thanked")
    POST_APPROVED = "post_approved", _("Your post was approved")
    POST_REJECTED = "post_rejected", _("Your post was not approved")
    SPECIALTY_QUESTION = "specialty_question", _("A new question in your specialty")
    QUEUE_ITEM = "queue_item", _("A new item in the moderation queue")
    RSVP_CONFIRMED = "rsvp_confirmed", _("Your salon place is confirmed")
    WAITLIST_PROMOTED = "waitlist_promoted", _("You moved up from the waitlist")
    EVENT_REMINDER = "event_reminder", _("A salon event you attend is tomorrow")
    EVENT_CHANGED = "event_changed", _("A salon event you attend has changed")
    EVENT_CANCELLED = "event_cancelled", _("A salon event you attend was cancelled")
    APPLICATION_DECIDED = "application_decided", _("Your physician application was decided")
    DUPLICATE_MARKED = "duplicate_marked", _("A physician linked your question to an answered one")
    ATTACHMENT_NEEDS_COVER = "attachment_needs_cover", _("A photo you shared shows personal data")
    ATTACHMENT_REVIEWED = "attachment_reviewed", _("A moderator looked at a photo you shared")
    DUTY_QUESTION = "duty_question", _("A new question for you on duty")
    DUTY_PASSED = "duty_passed", _("A physician passed a question to your group")
    DUTY_REMINDER = "duty_reminder", _("A question on your duty is still waiting")
    DUTY_ESCALATED = "duty_escalated", _("A question waited past the department's target")
    MDT_CONSENT = "mdt_consent", _("A physician asks to discuss your question at the MDT")
    MDT_CONSENSUS = "mdt_consensus", _("The MDT agreed on a recommendation for your question")
    MDT_INVITED = "mdt_invited", _("You are invited to an MDT session")
    MDT_FOLLOW_UP = "mdt_follow_up", _("An MDT case of yours is due for follow-up")


class Notification(models.Model):
    """One thing that happened, for one person; the database is the source of truth.

    ``data`` holds what the text needs (titles, names as the recipient may see
    them), so the text is written in the reader's language when shown.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    verb = models.CharField(max_length=32, choices=Verb)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    url = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_recipient"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self):
        return f"{self.verb} for {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """A person's choice for one kind of notification; absent rows mean the defaults."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    verb = models.CharField(max_length=32, choices=Verb)
    in_app = models.BooleanField(_("on the site"), default=True)
    email = models.BooleanField(_("by e-mail"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "verb"], name="preference_once_per_verb")
        ]

    def __str__(self):
        return f"{self.user_id} {self.verb}: in_app={self.in_app} email={self.email}"


class OutgoingEmail(models.Model):
    """One e-mail to one person, kept until the mail server has taken it.

    Written in the transaction of the action that causes it; the worker sends
    it and stamps ``sent_at`` under a row lock, so a retry, a second worker
    or a rerun never sends it twice. A notification e-mail stores its parts
    (``verb``, ``url``, ``data``) and is written in words when sent; other
    mail (sign-in links) stores its finished ``subject`` and ``body``.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outgoing_emails",
    )
    to = models.EmailField(_("to"))
    verb = models.CharField(max_length=32, choices=Verb, blank=True)
    url = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    html_body = models.TextField(blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [
            models.Index(
                fields=["updated_at"],
                condition=models.Q(sent_at__isnull=True),
                name="outgoing_email_unsent",
            ),
        ]

    def __str__(self):
        return f"{self.verb or self.subject} to {self.to}"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None
