from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.reversing import reverse_kept


class LocalizedNameMixin:
    """Show the Chinese name to Chinese readers when there is one."""

    @property
    def label(self) -> str:
        if self.name_zh and (get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name

    @property
    def blurb(self) -> str:
        description_zh = getattr(self, "description_zh", "")
        if description_zh and (get_language() or "").startswith("zh"):
            return description_zh
        return getattr(self, "description", "")


class Category(LocalizedNameMixin, models.Model):
    """A forum section by tumour location; also a physician's specialty."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=80, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    description_zh = models.TextField(_("Chinese description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.label

    def get_absolute_url(self):
        return reverse_kept("forum:category-detail", self.slug)


class Tag(LocalizedNameMixin, models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=40, blank=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.label

    def get_absolute_url(self):
        return reverse_kept("forum:tag-detail", self.slug)


class PostState(models.TextChoices):
    PUBLISHED = "published", _("Published")
    PENDING = "pending", _("Pending review")
    REJECTED = "rejected", _("Rejected")
    HIDDEN = "hidden", _("Hidden")


class PostQuerySet(models.QuerySet):
    def live(self):
        """Not deleted; the state decides who may see it."""
        return self.filter(deleted_at__isnull=True)

    def published(self):
        return self.live().filter(state=PostState.PUBLISHED)

    def visible_to(self, user):
        """What ``user`` may read: published posts, their own, or all for moderators."""
        live = self.live()
        if user is not None and user.is_authenticated:
            if user.is_moderator:
                return live
            return live.filter(models.Q(state=PostState.PUBLISHED) | models.Q(author=user))
        return live.filter(state=PostState.PUBLISHED)


class Post(models.Model):
    """What questions, answers and replies share: an author, Markdown, a state."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    body = models.TextField(_("text"))
    body_html = models.TextField(editable=False)
    state = models.CharField(
        _("state"), max_length=12, choices=PostState, default=PostState.PUBLISHED, db_index=True
    )
    moderation_reason = models.TextField(_("moderation note"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    # Set by a moderator's redaction, which leaves ``edited_at`` (the author's
    # own edits) alone: readers are told who changed the text.
    redacted_at = models.DateTimeField(_("edited by a moderator"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_published(self) -> bool:
        return self.state == PostState.PUBLISHED and self.deleted_at is None


class Question(Post):
    class Asker(models.TextChoices):
        # Nothing is assumed: "I" may be a daughter writing about her father.
        NOT_SAID = "", _("Not said")
        SELF = "self", _("Myself")
        FAMILY = "family", _("A family member")
        FRIEND = "friend", _("A friend")

    class Stage(models.TextChoices):
        UNKNOWN = "", _("Not sure / not given")
        STAGE_0 = "0", _("Stage 0 (in situ)")
        STAGE_1 = "I", _("Stage I")
        STAGE_2 = "II", _("Stage II")
        STAGE_3 = "III", _("Stage III")
        STAGE_4 = "IV", _("Stage IV (metastatic)")
        RECURRENT = "recurrent", _("Recurrent")

    class Treatment(models.TextChoices):
        NONE_YET = "none", _("No treatment yet")
        SURGERY = "surgery", _("Surgery")
        CHEMOTHERAPY = "chemotherapy", _("Chemotherapy")
        TARGETED = "targeted", _("Targeted therapy")
        IMMUNOTHERAPY = "immunotherapy", _("Immunotherapy")
        HYPERTHERMIA = "hyperthermia", _("Hyperthermia / HIPEC")
        INTERVENTIONAL = "interventional", _("Interventional therapy")
        RADIOTHERAPY = "radiotherapy", _("Radiotherapy")
        OTHER = "other", _("Other")

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="questions",
        verbose_name=_("author"),
    )
    title = models.CharField(pgettext_lazy("question", "title"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=80, allow_unicode=True, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="questions", verbose_name=_("category")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions", verbose_name=_("tags"))
    is_anonymous = models.BooleanField(_("ask anonymously"), default=False)
    asker = models.CharField(
        _("who is asking"), max_length=10, choices=Asker, blank=True, default=Asker.NOT_SAID
    )
    stage = models.CharField(_("diagnosis stage"), max_length=10, choices=Stage, blank=True)
    treatment = models.CharField(
        _("current treatment"), max_length=16, choices=Treatment, blank=True
    )
    regimen = models.CharField(
        _("regimen"), max_length=80, blank=True, help_text=_("For example XELOX, FOLFOX or SOX.")
    )
    cycle = models.PositiveSmallIntegerField(_("cycle"), null=True, blank=True)
    is_locked = models.BooleanField(_("locked"), default=False)
    # A physician's pointer to an answered question that already covers this
    # one. The duplicate stays readable; SET_NULL so deleting the original
    # (only ever soft, but rows can go in admin) leaves the duplicate standing.
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    duplicate_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked as a duplicate by"),
    )
    duplicate_marked_at = models.DateTimeField(_("marked as a duplicate"), null=True, blank=True)
    accepted_answer = models.OneToOneField(
        "Answer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted answer"),
    )
    # Kept by the services so the list sorts and filters without aggregates.
    answer_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    thanks_count = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(default=timezone.now)
    # Title, body and published answers, with Chinese split into bigrams so
    # PostgreSQL's word-based full-text search (and its GIN index) finds them.
    search_document = models.TextField(editable=False, default="")
    # PostgreSQL only: the document parsed once on write, so ranking many
    # matches reads it instead of parsing every matched row again.
    search_vector = SearchVectorField(null=True, editable=False)
    # What puts a question first in search whatever the words: answered,
    # accepted, thanked; a duplicate last (forum.search.boost_expression).
    search_boost = models.SmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [
            models.Index(
                fields=["state", "deleted_at", "-created_at"], name="question_list_newest"
            ),
            models.Index(
                fields=["state", "deleted_at", "-last_activity_at"], name="question_list_active"
            ),
            models.Index(
                fields=["state", "deleted_at", "-thanks_count"], name="question_list_thanked"
            ),
            models.Index(fields=["category", "state", "-created_at"], name="question_category"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(duplicate_of=models.F("pk")),
                name="question_not_duplicate_of_itself",
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse_kept("forum:question-detail", self.pk, self.slug or "q")

    @property
    def is_answered(self) -> bool:
        return self.answer_count > 0

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of_id is not None


class Answer(Post):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="answers", verbose_name=_("question")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="answers",
        verbose_name=_("author"),
    )
    thanks_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")

    def __str__(self):
        return f"Answer {self.pk} to {self.question_id}"

    def get_absolute_url(self):
        return f"{self.question.get_absolute_url()}#answer-{self.pk}"


class Reply(Post):
    """A comment under a question, or under one of its answers."""

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="replies", verbose_name=_("question")
    )
    answer = models.ForeignKey(
        Answer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("answer"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="replies",
        verbose_name=_("author"),
    )

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")

    def __str__(self):
        return f"Reply {self.pk} to {self.question_id}"

    def get_absolute_url(self):
        return f"{self.question.get_absolute_url()}#reply-{self.pk}"


class Thanks(models.Model):
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="thanks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "user"], name="thanks_once_per_person")
        ]

    def __str__(self):
        return f"Thanks {self.user_id} → answer {self.answer_id}"


class Follow(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_questions"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "user"], name="follow_once_per_person")
        ]

    def __str__(self):
        return f"Follow {self.user_id} → question {self.question_id}"


class Revision(models.Model):
    """A post as it was before an edit; moderators can read every version."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    post = GenericForeignKey("content_type", "object_id")
    title = models.CharField(max_length=150, blank=True)
    body = models.TextField()
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"])]

    def __str__(self):
        return f"Revision of {self.content_type.model} {self.object_id} at {self.created_at:%Y-%m-%d %H:%M}"
