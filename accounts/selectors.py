"""Reads of accounts and physician profiles, shaped for the pages."""

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from accounts.models import PhysicianProfile
from forum.models import Category


def doctor_list(*, specialty: Category | None = None) -> QuerySet[PhysicianProfile]:
    """Verified physicians, senior titles first, with user and specialties loaded."""
    profiles = (
        PhysicianProfile.objects.filter(
            status=PhysicianProfile.Status.VERIFIED, user__is_active=True
        )
        .select_related("user", "discipline")
        .prefetch_related(Prefetch("specialties", queryset=Category.objects.order_by("position")))
    )
    if specialty is not None:
        profiles = profiles.filter(specialties=specialty)
    title_order = {value: index for index, value in enumerate(PhysicianProfile.Title.values)}
    # Chief physicians first: the enumeration's own order, then by name.
    return profiles.annotate(
        title_rank=Case(
            *[When(title=value, then=Value(rank)) for value, rank in title_order.items()],
            output_field=IntegerField(),
        )
    ).order_by("title_rank", "user__name", "pk")


def doctor_get(*, user_id: int) -> PhysicianProfile:
    """The verified physician profile of a user, or 404."""
    return get_object_or_404(doctor_list(), user_id=user_id)
