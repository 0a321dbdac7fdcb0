"""The department's settings of the roster: each group's target and lead, and holidays.

The week-to-week roster itself is set on /roster/; the admin lists shifts
and routings for looking things up.
"""

from django.contrib import admin

from duty.models import Holiday, Routing, Shift, TumourGroup


@admin.register(TumourGroup)
class TumourGroupAdmin(admin.ModelAdmin):
    list_display = ["__str__", "target_hours", "lead"]
    list_select_related = ["category", "lead"]
    autocomplete_fields = ["lead"]
    fields = ["category", "target_hours", "lead"]

    def get_readonly_fields(self, request, obj=None):
        # A group stays the category it was made for: its questions and figures hang on it.
        return ["category"] if obj else []


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["day", "name"]
    date_hierarchy = "day"


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["day", "group", "physician", "set_by", "updated_at"]
    list_filter = ["group"]
    list_select_related = ["group__category", "physician", "set_by"]
    date_hierarchy = "day"
    autocomplete_fields = ["physician"]
    readonly_fields = ["set_by", "updated_at"]


@admin.register(Routing)
class RoutingAdmin(admin.ModelAdmin):
    list_display = ["question", "group", "on_duty", "published_at", "claimed_by", "first_answer_at"]
    list_filter = ["group"]
    list_select_related = ["question", "group__category", "on_duty", "claimed_by"]
    date_hierarchy = "published_at"
    # The record of what happened to a question: read here, written by duty.services.
    readonly_fields = [field.name for field in Routing._meta.fields]

    def has_add_permission(self, request):
        return False
