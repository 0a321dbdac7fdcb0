"""Every write to accounts and physician profiles goes through here."""

import uuid

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Discipline, PhysicianProfile, User
from forum.models import Category
from moderation.models import Case
from notifications.models import Verb
from notifications.services import notify


def account_create(
    *,
    email: str,
    password: str,
    role: str = User.Role.PATIENT,
    name: str = "",
    verified: bool = False,
    title: str = PhysicianProfile.Title.ATTENDING,
    hospital: str = "",
    department: str = "",
    hospital_zh: str = "",
    department_zh: str = "",
    licence_number: str = "",
    specialties: list[Category] | None = None,
    discipline: Discipline | None = None,
) -> User:
    """Create an active account whose e-mail address is already confirmed.

    A doctor gets a physician profile, verified only when ``verified`` is set;
    a hospital or department left out is the department's own
    (``SHUKANG_HOSPITAL``, ``SHUKANG_DEPARTMENT`` and their Chinese forms).
    A moderator is staff so the admin opens to them.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    if role not in User.Role.values:
        raise ValidationError(
            _("Unknown role “%(role)s”: choose one of %(roles)s.")
            % {"role": role, "roles": ", ".join(User.Role.values)}
        )
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(_("Enter a valid e-mail address.")) from None
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            _("An account with the e-mail address %(email)s already exists.") % {"email": email}
        )
    name = name.strip() or email.split("@", 1)[0]
    candidate = User(email=email, name=name, role=role)
    validate_password(password, user=candidate)

    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=password,
            name=name,
            role=role,
            is_staff=role == User.Role.MODERATOR,
        )
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        if role == User.Role.DOCTOR:
            profile = PhysicianProfile.objects.create(
                user=user,
                title=title,
                hospital=hospital or settings.SHUKANG_HOSPITAL,
                hospital_zh=hospital_zh or ("" if hospital else settings.SHUKANG_HOSPITAL_ZH),
                department=department or settings.SHUKANG_DEPARTMENT,
                department_zh=department_zh
                or ("" if department else settings.SHUKANG_DEPARTMENT_ZH),
                licence_number=licence_number or f"UNVERIFIED-{uuid.uuid4().hex[:12]}",
                status=PhysicianProfile.Status.VERIFIED
                if verified
                else PhysicianProfile.Status.PENDING,
                decided_at=timezone.now() if verified else None,
                discipline=discipline,
            )
            profile.specialties.set(
                specialties if specialties is not None else Category.objects.all()
            )
    return user


def physician_apply(
    *,
    user: User,
    title: str,
    hospital: str,
    department: str,
    licence_number: str,
    specialties: list[Category],
    bio: str = "",
    discipline: Discipline | None = None,
    hospital_zh: str = "",
    department_zh: str = "",
) -> PhysicianProfile:
    """File (or refile) a physician application for a moderator to verify.

    A verified physician cannot reapply; a refused or pending application is
    replaced by the new details and waits for review again.
    """
    if not user.is_authenticated:
        raise PermissionDenied
    if not specialties:
        raise ValidationError(_("Choose at least one specialty."))
    if not licence_number.strip():
        raise ValidationError(_("Enter your medical licence number."))
    with transaction.atomic():
        profile = PhysicianProfile.objects.select_for_update().filter(user=user).first()
        if profile is not None and profile.is_verified:
            raise ValidationError(_("Your physician profile is already verified."))
        if profile is None:
            profile = PhysicianProfile(user=user)
        profile.title = title
        profile.hospital = hospital.strip()
        profile.hospital_zh = hospital_zh.strip()
        profile.department = department.strip()
        profile.department_zh = department_zh.strip()
        profile.licence_number = licence_number.strip()
        profile.bio = bio.strip()
        profile.discipline = discipline
        profile.status = PhysicianProfile.Status.PENDING
        profile.decided_by = None
        profile.decided_at = None
        profile.decision_reason = ""
        profile.full_clean(exclude=["user", "specialties"])
        profile.save()
        profile.specialties.set(specialties)
        from moderation.services import case_open_for_application

        case_open_for_application(profile=profile)
    return profile


def physician_decide(
    *, profile: PhysicianProfile, moderator: User, approve: bool, reason: str = ""
) -> PhysicianProfile:
    """Verify or refuse a pending physician application.

    Locks the profile so two moderators deciding at once act only once.
    """
    if not moderator.is_moderator:
        raise PermissionDenied
    if not approve and not reason.strip():
        raise ValidationError(_("Give the applicant a reason for the refusal."))
    with transaction.atomic():
        profile = (
            PhysicianProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
        )
        if profile.status != PhysicianProfile.Status.PENDING:
            raise ValidationError(_("This application has already been decided."))
        profile.status = (
            PhysicianProfile.Status.VERIFIED if approve else PhysicianProfile.Status.REFUSED
        )
        profile.decided_by = moderator
        profile.decided_at = timezone.now()
        profile.decision_reason = reason.strip()
        profile.save(
            update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"]
        )
        if approve and profile.user.role == User.Role.PATIENT:
            profile.user.role = User.Role.DOCTOR
            profile.user.save(update_fields=["role"])
        # Decided here or in the admin: either way the queue item is done.
        Case.objects.filter(
            content_type=ContentType.objects.get_for_model(PhysicianProfile),
            object_id=profile.pk,
            resolved_at__isnull=True,
        ).update(
            resolved_at=timezone.now(),
            resolved_by=moderator,
            resolution="approved" if approve else "rejected",
        )
        notify(
            recipients=[profile.user],
            verb=Verb.APPLICATION_DECIDED,
            url=reverse("accounts:doctor-apply"),
            data={"approved": approve, "reason": profile.decision_reason},
            actor=moderator,
        )
    return profile


def user_update_profile(*, user: User, name: str, timezone_name: str) -> User:
    """Change the display name and the time zone pages are shown in."""
    stored = User.objects.filter(pk=user.pk).values("name", "timezone").get()
    user.name = name.strip()
    user.timezone = timezone_name
    user.full_clean(exclude=["password", "email"])
    # Only what changed: a new name empties the forum's page caches (forum.handlers).
    changed = [field for field in ("name", "timezone") if getattr(user, field) != stored[field]]
    if changed:
        user.save(update_fields=changed)
    return user


def account_export(*, user: User) -> dict:
    """Everything Shu-Kang holds about ``user``, as plain JSON-ready data (SPEC section 8)."""
    from attachments.selectors import export_for_user as attachments_export
    from forum.models import Answer, Follow, Question, Reply, Thanks
    from moderation.models import Flag
    from notifications.models import Notification, Preference

    def when(value):
        return value.isoformat() if value else None

    def post(row, **extra):
        return {
            "id": row.pk,
            "text": row.body,
            "state": row.state,
            "created": when(row.created_at),
            "edited": when(row.edited_at),
            "deleted": when(row.deleted_at),
            **extra,
        }

    profile = PhysicianProfile.objects.filter(user=user).prefetch_related("specialties").first()
    data = {
        "account": {
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "time_zone": user.timezone or None,
            "joined": when(user.date_joined),
            "last_login": when(user.last_login),
            "email_addresses": list(
                EmailAddress.objects.filter(user=user).values("email", "verified", "primary")
            ),
        },
        "physician_profile": None,
        "questions": [
            post(
                q,
                title=q.title,
                category=q.category.name,
                tags=[tag.name for tag in q.tags.all()],
                anonymous=q.is_anonymous,
                asking_for=q.asker,
                stage=q.stage,
                treatment=q.treatment,
                regimen=q.regimen,
                cycle=q.cycle,
            )
            for q in Question.objects.filter(author=user)
            .select_related("category")
            .prefetch_related("tags")
        ],
        "answers": [post(a, question=a.question_id) for a in Answer.objects.filter(author=user)],
        "replies": [
            post(r, question=r.question_id, answer=r.answer_id)
            for r in Reply.objects.filter(author=user)
        ],
        "thanks_given": list(Thanks.objects.filter(user=user).values_list("answer_id", flat=True)),
        "following": list(Follow.objects.filter(user=user).values_list("question_id", flat=True)),
        "flags": [
            {
                "object": f"{flag.content_type.model} {flag.object_id}",
                "reason": flag.reason,
                "note": flag.note,
            }
            for flag in Flag.objects.filter(user=user).select_related("content_type")
        ],
        "notifications": [
            {
                "verb": n.verb,
                "url": n.url,
                "data": n.data,
                "created": when(n.created_at),
                "read": when(n.read_at),
            }
            for n in Notification.objects.filter(recipient=user).order_by("id")
        ],
        "notification_preferences": list(
            Preference.objects.filter(user=user).values("verb", "in_app", "email")
        ),
    }
    if profile is not None:
        data["physician_profile"] = {
            "title": profile.title,
            "hospital": profile.hospital,
            "hospital_zh": profile.hospital_zh,
            "department": profile.department,
            "department_zh": profile.department_zh,
            "licence_number": profile.licence_number,
            "specialties": [category.name for category in profile.specialties.all()],
            "bio": profile.bio,
            "status": profile.status,
        }
    data["attachments"] = attachments_export(user=user)
    try:
        from salon.selectors import export_for_user
    except ImportError:
        export_for_user = None
    if export_for_user is not None:
        data["salon"] = export_for_user(user=user)
    return data


def account_delete(*, user: User, password: str) -> None:
    """Remove the person's personal data; their posts stay, shown as by a Former member.

    The password is asked again so a borrowed phone cannot erase an account.
    """
    from attachments.services import attachments_delete_for
    from forum.models import Follow
    from notifications.models import Notification, Preference
    from notifications.services import sessions_revoke
    from salon.models import RSVP
    from salon.services import rsvp_cancel

    if not user.check_password(password):
        raise ValidationError({"password": _("The password is not correct.")})
    with transaction.atomic():
        # Places at coming events go to the waitlist; attendance history goes.
        for rsvp in (
            RSVP.objects.filter(user=user)
            .exclude(status=RSVP.Status.CANCELLED)
            .select_related("event")
        ):
            if not rsvp.event.is_past:
                rsvp_cancel(event=rsvp.event, user=user)
        RSVP.objects.filter(user=user).delete()
        EmailAddress.objects.filter(user=user).delete()
        PhysicianProfile.objects.filter(user=user).delete()
        Notification.objects.filter(recipient=user).delete()
        Preference.objects.filter(user=user).delete()
        Follow.objects.filter(user=user).delete()
        attachments_delete_for(owner=user)  # their reports, from storage too
        user.email = f"deleted-{user.pk}@deleted.invalid"
        user.name = ""
        user.timezone = ""
        user.is_active = False
        user.is_staff = False
        user.suspended_until = None
        user.deleted_at = timezone.now()
        user.set_unusable_password()
        user.save()  # the forum's pages show "Former member" from now on
        transaction.on_commit(lambda: sessions_revoke(user_id=user.pk))
