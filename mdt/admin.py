"""The MDT in the admin: read-only records for moderators; changes go through the site's pages.

Cases are never deleted, only closed, and the audit log is never changed.
"""

from django.contrib import admin

from mdt.models import AuditEvent, Case, Consensus, Session


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Session)
class SessionAdmin(ReadOnly):
    list_display = ["title", "starts_at", "submission_deadline", "chair", "recorder"]
    list_select_related = ["chair", "recorder"]
    date_hierarchy = "starts_at"


@admin.register(Case)
class CaseAdmin(ReadOnly):
    list_display = ["title", "owner", "session", "created_at", "closed_at"]
    list_select_related = ["owner", "session"]
    list_filter = ["closed_at"]
    search_fields = ["title"]


@admin.register(Consensus)
class ConsensusAdmin(ReadOnly):
    list_display = ["case", "version", "updated_at", "final_at"]
    list_select_related = ["case"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnly):
    list_display = ["created_at", "case", "actor", "action"]
    list_select_related = ["case", "actor"]
    list_filter = ["action"]
