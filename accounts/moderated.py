"""Physician applications as moderation sees them (moderation.registry)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import PhysicianProfile
from accounts.services import physician_decide
from moderation import registry


def _approve(profile, *, case, moderator) -> str:
    physician_decide(profile=profile, moderator=moderator, approve=True)
    return "verify_physician"


def _reject(profile, *, case, moderator, reason: str) -> str:
    physician_decide(profile=profile, moderator=moderator, approve=False, reason=reason)
    return "refuse_physician"


def register() -> None:
    """Called from ``AccountsConfig.ready``."""
    registry.register(
        registry.Kind(
            name="physician_application",
            model=PhysicianProfile,
            describe=lambda profile: (
                _("physician application from %(name)s") % {"name": profile.user.name}
            ),
            queryset=lambda: PhysicianProfile.objects.select_related("user").prefetch_related(
                "specialties"
            ),
            author=lambda profile: profile.user,
            template="accounts/_moderation_case.html",
            approve=_approve,
            reject=_reject,
            approve_label=gettext_lazy("Verify physician"),
            reject_label=gettext_lazy("Refuse"),
            actions={
                "verify_physician": gettext_lazy("Physician verified"),
                "refuse_physician": gettext_lazy("Physician application refused"),
            },
        )
    )
