"""Background work on Django's task framework (STYLE section 10).

Two helpers every app's ``tasks.py`` uses, so no task carries its own copy:

- ``task_enqueue`` queues a task with the caller's transaction.
- ``retrying`` retries a task that talks to another server, with backoff.

And the site's own periodic housekeeping: finished task rows are pruned.
"""

import logging
from datetime import timedelta
from functools import partial, wraps

from crontask import cron
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend

logger = logging.getLogger(__name__)

# Finished task rows are kept this long for staff to look at in the admin.
KEEP_FINISHED_DAYS = 14
KEEP_FAILED_DAYS = 30


def task_enqueue(task_obj, **kwargs):
    """Queue ``task_obj`` so that it runs only if the current transaction commits.

    On the database backend the task row is written inside the transaction:
    it commits with the action or not at all, so nothing is lost between the
    commit and the queue. Backends that keep nothing (the immediate backend
    of the tests) are given the task after the commit instead.
    """
    if isinstance(task_obj.get_backend(), DatabaseBackend):
        return task_obj.enqueue(**kwargs)
    transaction.on_commit(partial(task_obj.enqueue, **kwargs))
    return None


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1-based)."""
    options = settings.SHUKANG_TASK_RETRY
    return timedelta(seconds=min(options["cap"], options["base"] * 2 ** (attempt - 1)))


def retrying(*, on: tuple[type[BaseException], ...]):
    """Retry the decorated task function with backoff when it raises one of ``on``.

    Put it under ``@task``. The function takes keyword arguments only; the
    wrapper adds ``attempt`` (1 for the first run). A failed attempt queues
    the next one, then raises, so the failure is recorded on its task row
    with the error and a note of when the next attempt runs (the admin shows
    both). The function must be safe to run again: an attempt may have done
    part of its work before it failed.
    """

    def decorate(function):
        path = f"{function.__module__}.{function.__qualname__}"

        @wraps(function)
        def run(*, attempt: int = 1, **kwargs):
            try:
                return function(**kwargs)
            except on as error:
                limit = settings.SHUKANG_TASK_RETRY["attempts"]
                if attempt >= limit:
                    error.add_note(f"Gave up after {attempt} attempts.")
                    raise
                when = timezone.now() + retry_delay(attempt)
                # The module attribute is the Task that wraps this function.
                task_obj = import_string(path)
                result = task_obj.using(run_after=when).enqueue(attempt=attempt + 1, **kwargs)
                error.add_note(
                    f"Attempt {attempt} of {limit} failed; attempt {attempt + 1} runs after "
                    f"{when.isoformat(timespec='seconds')} (task {result.id})."
                )
                logger.warning("%s: attempt %d failed (%s); retrying", path, attempt, error)
                raise

        return run

    return decorate


@cron("17 3 * * *")
@task
def task_results_prune() -> None:
    """Delete finished task rows older than a fortnight (failed ones after a month)."""
    call_command(
        "prune_db_task_results",
        queue_name="*",
        min_age_days=KEEP_FINISHED_DAYS,
        failed_min_age_days=KEEP_FAILED_DAYS,
        verbosity=0,
    )
