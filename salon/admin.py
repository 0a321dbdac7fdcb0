from django.contrib import admin
from django.db import transaction

from core.markdown import render_markdown
from salon import listcache, selectors
from salon.models import RSVP, Event, LiveQuestion, Vote


class RSVPInline(admin.TabularInline):
    model = RSVP
    extra = 0
    fields = ["user", "status", "position", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "starts_at",
        "state",
        "is_online",
        "capacity",
        "confirmed_count",
        "waitlist_count",
    ]
    list_filter = ["state", "is_online"]
    search_fields = ["title", "location"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["hosts"]
    readonly_fields = ["confirmed_count", "waitlist_count", "sequence", "created_by"]
    inlines = [RSVPInline]

    def save_model(self, request, obj, form, change):
        # The visitors' home pages are kept until what they show of the salon changes.
        before = listcache.home_card(Event.objects.get(pk=obj.pk)) if change else None
        # The pages show the rendered, sanitised description only.
        obj.description_html = render_markdown(obj.description)
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        listcache.event_changed(obj, before=before)

    # Each delete in a transaction, so the version moves on after it, not
    # before: the admin's bulk delete action runs outside one.
    def delete_model(self, request, obj):
        with transaction.atomic():
            if obj.pk in selectors.event_ids_for_home():
                listcache.invalidate()
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            if set(queryset.values_list("pk", flat=True)) & set(selectors.event_ids_for_home()):
                listcache.invalidate()
            super().delete_queryset(request, queryset)


@admin.register(RSVP)
class RSVPAdmin(admin.ModelAdmin):
    list_display = ["event", "user", "status", "position", "created_at", "reminded_for"]
    list_filter = ["status"]
    search_fields = ["event__title", "user__email", "user__name"]
    raw_id_fields = ["event", "user"]


@admin.register(LiveQuestion)
class LiveQuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "event", "author", "vote_count", "is_answered", "created_at"]
    list_filter = ["is_answered"]
    search_fields = ["body", "event__title"]
    raw_id_fields = ["event", "author", "answered_by", "forum_question", "forum_answer"]
    readonly_fields = ["vote_count"]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["question", "user", "created_at"]
    raw_id_fields = ["question", "user"]
