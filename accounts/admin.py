from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Discipline, PhysicianProfile, User
from moderation.services import audit


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "is_active", "is_staff", "date_joined"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["name", "role", "timezone"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "name", "role", "password1", "password2"]},
        ),
    ]


@admin.register(Discipline)
class DisciplineAdmin(admin.ModelAdmin):
    """Moderators add the MDT's disciplines beyond the six the department starts with."""

    list_display = ["name", "name_zh", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None):
        # Physicians' profiles and past opinions refer to it.
        return False


@admin.register(PhysicianProfile)
class PhysicianProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "discipline", "hospital", "department", "status", "created_at"]
    list_filter = ["status", "title", "discipline", "specialties"]
    search_fields = ["user__email", "user__name", "licence_number", "hospital", "hospital_zh"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    readonly_fields = ["status", "decided_by", "decided_at", "decision_reason", "created_at"]
    actions = ["verify"]

    @admin.action(description=_("Verify the selected physicians"))
    def verify(self, request, queryset):
        verified = 0
        for profile in queryset:
            try:
                services.physician_decide(profile=profile, moderator=request.user, approve=True)
            except (ValidationError, PermissionDenied):
                continue
            audit(moderator=request.user, action="verify_physician", target=profile, reason="admin")
            verified += 1
        self.message_user(
            request, _("%(count)d physicians verified.") % {"count": verified}, messages.SUCCESS
        )
