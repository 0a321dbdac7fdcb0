"""Forum work done by the worker, after the action that caused it."""

from django.db import transaction
from django.tasks import task

from forum import events
from forum.models import Answer


@task(queue_name="push", priority=10)
def answer_followers_notify(*, answer_id: int) -> int:
    """Tell a popular question's followers of a new answer; returns how many were told.

    Queued with the answer's transaction; pushes to the followers' sockets
    itself, after its commit. Safe to run twice: followers told already are
    skipped, and an answer withdrawn meanwhile is announced to nobody.
    """
    published = Answer.objects.published().select_related("question", "author")
    answer = published.filter(pk=answer_id).first()
    if answer is None:
        return 0
    with transaction.atomic():
        return len(events.answer_followers_notify(answer, in_worker=True))
