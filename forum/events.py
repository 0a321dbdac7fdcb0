"""What the forum tells the rest of the site when something happens.

The services call these inside their transaction: notifications are stored
with the action and pushed after the commit, and open question pages get the
new post after the commit too. Only published content arrives here.
"""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import PhysicianProfile, User
from core.tasks import task_enqueue
from forum import live
from forum.models import Answer, Question, Reply
from forum.selectors import author_display, person_display
from notifications.models import Notification, OutgoingEmail, Verb
from notifications.services import notify

# Followers told of a new answer by the answering request itself. A popular
# question's followers are told by the worker after the commit instead
# (forum.tasks.answer_followers_notify): a thousand notifications and
# e-mails kept the doctor who answered waiting (docs/BENCHMARKS.md).
FOLLOWERS_IN_REQUEST = 100


def _both_languages(obj) -> dict:
    """A name stored in both languages; the text picks the reader's."""
    return {"en": obj.name, "zh-hans": obj.name_zh or obj.name}


def post_published(post) -> None:
    """A question, answer or reply has just become visible to everyone."""
    if isinstance(post, Question):
        _question_published(post)
    elif isinstance(post, Answer):
        _answer_published(post)
    elif isinstance(post, Reply):
        _reply_published(post)


def _question_published(question: Question) -> None:
    # The group's physician on duty (or, with nobody on duty, the whole
    # specialty) hears first; the others who opted in to new questions of
    # their specialty are told as before.
    from duty.services import question_route

    routed = question_route(question)
    doctors = User.objects.filter(
        is_active=True,
        physician_profile__status=PhysicianProfile.Status.VERIFIED,
        physician_profile__specialties=question.category_id,
    ).exclude(pk__in=routed)
    notify(
        recipients=doctors,
        verb=Verb.SPECIALTY_QUESTION,
        url=question.get_absolute_url(),
        data={"title": question.title, "category": _both_languages(question.category)},
        actor=question.author,
    )


def _answer_published(answer: Answer) -> None:
    from duty.services import answer_recorded

    answer_recorded(question=answer.question, physician=answer.author, at=timezone.now())
    followers = User.objects.filter(followed_questions__question=answer.question)
    if followers.count() > FOLLOWERS_IN_REQUEST:
        from forum.tasks import answer_followers_notify as task

        task_enqueue(task, answer_id=answer.pk)
    else:
        answer_followers_notify(answer)
    transaction.on_commit(partial(live.broadcast_post, answer))


def answer_followers_notify(answer: Answer, *, in_worker: bool = False) -> list[Notification]:
    """Tell the question's followers of ``answer``, except those already told of it."""
    question = answer.question
    url = answer.get_absolute_url()
    told = Notification.objects.filter(verb=Verb.ANSWER, url=url).values("recipient_id")
    mailed = OutgoingEmail.objects.filter(verb=Verb.ANSWER, url=url).values("recipient_id")
    return notify(
        recipients=User.objects.filter(followed_questions__question=question)
        .exclude(pk__in=told)
        .exclude(pk__in=mailed),
        verb=Verb.ANSWER,
        url=url,
        data={"actor": answer.author.name, "title": question.title},
        actor=answer.author,
        in_worker=in_worker,
    )


def _reply_published(reply: Reply) -> None:
    question = reply.question
    parent = reply.answer if reply.answer_id else question
    recipient = parent.author
    notify(
        recipients=[recipient],
        verb=Verb.REPLY,
        url=reply.get_absolute_url(),
        data={"actor": str(author_display(reply, recipient)), "title": question.title},
        actor=reply.author,
    )
    transaction.on_commit(partial(live.broadcast_post, reply))


def answer_accepted(answer: Answer, *, by: User) -> None:
    """The asker accepted ``answer``: its doctor hears of it."""
    notify(
        recipients=[answer.author],
        verb=Verb.ACCEPTED,
        url=answer.get_absolute_url(),
        data={
            "actor": str(person_display(by, question=answer.question, viewer=answer.author)),
            "title": answer.question.title,
        },
        actor=by,
    )


def answer_thanked(answer: Answer, *, by: User) -> None:
    """Someone thanked ``answer``: its doctor hears of it."""
    notify(
        recipients=[answer.author],
        verb=Verb.THANKED,
        url=answer.get_absolute_url(),
        data={
            "actor": str(person_display(by, question=answer.question, viewer=answer.author)),
            "title": answer.question.title,
        },
        actor=by,
    )


def question_duplicate_marked(question: Question, *, original: Question, by: User) -> None:
    """A physician linked ``question`` to an answered ``original``: its asker hears of it."""
    if by.is_moderator:
        # Moderators act for the site, as on the pages ("edited by a moderator").
        actor = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                actor[code] = _("A moderator")
    else:
        actor = by.name
    notify(
        recipients=[question.author],
        verb=Verb.DUPLICATE_MARKED,
        url=question.get_absolute_url(),
        data={"actor": actor, "title": question.title, "original": original.title},
        actor=by,
    )
