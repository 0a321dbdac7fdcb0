from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def moderators(self):
        """Active moderators and superusers: who hears of new queue items."""
        return self.filter(
            models.Q(role=User.Role.MODERATOR) | models.Q(is_superuser=True), is_active=True
        )

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("role", User.Role.MODERATOR)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A member of Shu-Kang, signing in with an e-mail address."""

    class Role(models.TextChoices):
        PATIENT = "patient", _("Patient or caregiver")
        DOCTOR = "doctor", _("Doctor")
        MODERATOR = "moderator", _("Moderator")

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(
        _("display name"),
        max_length=60,
        help_text=_("Shown beside your posts. You may use a nickname."),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.PATIENT)
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_("Leave empty to see times in China Standard Time (Asia/Shanghai)."),
    )

    suspended_until = models.DateTimeField(
        _("suspended until"),
        null=True,
        blank=True,
        help_text=_("While suspended the person can read but not post, reply, flag or RSVP."),
    )
    deleted_at = models.DateTimeField(_("account deleted"), null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.name or self.email

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name

    @property
    def is_moderator(self) -> bool:
        return self.role == self.Role.MODERATOR or self.is_superuser

    @property
    def is_suspended(self) -> bool:
        return self.suspended_until is not None and self.suspended_until > timezone.now()

    @property
    def is_former_member(self) -> bool:
        return self.deleted_at is not None


class Discipline(models.Model):
    """A physician's field within the multidisciplinary team (MDT): surgery, pathology ...

    The tumour-group specialties say which questions a physician answers; the
    discipline says what they bring to an MDT case. Moderators add more in
    the admin.
    """

    name = models.CharField(_("name"), max_length=80, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=80, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("discipline")
        verbose_name_plural = _("disciplines")

    def __str__(self):
        return self.name

    @property
    def label(self) -> str:
        return _in_reader_language(self.name, self.name_zh)


class PhysicianProfile(models.Model):
    """A physician's credentials; only a verified profile may answer questions."""

    class Title(models.TextChoices):
        CHIEF = "chief", _("Chief physician")
        ASSOCIATE_CHIEF = "associate_chief", _("Associate chief physician")
        ATTENDING = "attending", _("Attending physician")
        RESIDENT = "resident", _("Resident physician")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting verification")
        VERIFIED = "verified", _("Verified")
        REFUSED = "refused", _("Refused")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="physician_profile",
        verbose_name=_("user"),
    )
    title = models.CharField(_("title"), max_length=20, choices=Title)
    hospital = models.CharField(_("hospital"), max_length=120)
    hospital_zh = models.CharField(
        _("hospital in Chinese"),
        max_length=120,
        blank=True,
        help_text=_("Shown to readers of the Chinese pages; leave empty if it is the same."),
    )
    department = models.CharField(_("department"), max_length=120)
    department_zh = models.CharField(
        _("department in Chinese"),
        max_length=120,
        blank=True,
        help_text=_("Shown to readers of the Chinese pages; leave empty if it is the same."),
    )
    specialties = models.ManyToManyField(
        "forum.Category",
        related_name="physicians",
        verbose_name=_("specialties"),
    )
    discipline = models.ForeignKey(
        Discipline,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="physicians",
        verbose_name=_("discipline"),
        help_text=_("Your field in the multidisciplinary team, such as surgery or pathology."),
    )
    licence_number = models.CharField(
        _("medical licence number"),
        max_length=40,
        help_text=_("The number on your physician practising certificate."),
    )
    bio = models.TextField(_("about you"), blank=True, max_length=2000)
    status = models.CharField(
        _("verification"), max_length=16, choices=Status, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("physician profile")
        verbose_name_plural = _("physician profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["licence_number"], name="physician_unique_licence_number"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.user} ({self.get_title_display()})"

    def get_absolute_url(self):
        return reverse("accounts:doctor-detail", args=[self.user_id])

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED

    @property
    def hospital_label(self) -> str:
        """The hospital's name in the reader's language, where there is a Chinese one."""
        return _in_reader_language(self.hospital, self.hospital_zh)

    @property
    def department_label(self) -> str:
        return _in_reader_language(self.department, self.department_zh)


def _in_reader_language(name: str, name_zh: str) -> str:
    if name_zh and (get_language() or "").startswith("zh"):
        return name_zh
    return name


def user_is_verified_doctor(user) -> bool:
    """Whether the user holds a verified physician profile (one query unless prefetched)."""
    if not user.is_authenticated:
        return False
    profile = getattr(user, "physician_profile", None)
    return profile is not None and profile.is_verified
