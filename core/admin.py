"""The task queue in the admin: what failed, why, and when it runs next."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult


class TaskResultAdmin(DBTaskResultAdmin):
    list_display = (
        "task_name",
        "status",
        "attempt",
        "enqueued_at",
        "display_run_after",
        "finished_at",
        "error",
        "queue_name",
    )
    list_filter = ("status", "queue_name")
    search_fields = ("task_path", "traceback")

    @admin.display(description=_("attempt"))
    def attempt(self, obj: DBTaskResult) -> int:
        return obj.args_kwargs.get("kwargs", {}).get("attempt", 1)

    @admin.display(description=_("error"))
    def error(self, obj: DBTaskResult) -> str:
        # The exception's last line, and the retry note core.tasks.retrying adds.
        lines = [line for line in obj.traceback.strip().splitlines() if line.strip()]
        return " / ".join(lines[-2:])[:300] if lines else ""


admin.site.unregister(DBTaskResult)
admin.site.register(DBTaskResult, TaskResultAdmin)
