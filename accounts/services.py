"""Every write to accounts and physician profiles goes through here."""

import uuid

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PhysicianProfile, User
from forum.models import Category


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
    licence_number: str = "",
    specialties: list[Category] | None = None,
) -> User:
    """Create an active account whose e-mail address is already confirmed.

    A doctor gets a physician profile, verified only when ``verified`` is set;
    a moderator is staff so the admin opens to them.
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
                department=department or settings.SHUKANG_DEPARTMENT,
                licence_number=licence_number or f"UNVERIFIED-{uuid.uuid4().hex[:12]}",
                status=PhysicianProfile.Status.VERIFIED
                if verified
                else PhysicianProfile.Status.PENDING,
                decided_at=timezone.now() if verified else None,
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
        profile.department = department.strip()
        profile.licence_number = licence_number.strip()
        profile.bio = bio.strip()
        profile.status = PhysicianProfile.Status.PENDING
        profile.decided_by = None
        profile.decided_at = None
        profile.decision_reason = ""
        profile.full_clean(exclude=["user", "specialties"])
        profile.save()
        profile.specialties.set(specialties)
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
    return profile


def user_update_profile(*, user: User, name: str, timezone_name: str) -> User:
    """Change the display name and the time zone pages are shown in."""
    user.name = name.strip()
    user.timezone = timezone_name
    user.full_clean(exclude=["password", "email"])
    user.save(update_fields=["name", "timezone"])
    return user
