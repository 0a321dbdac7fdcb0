"""Questions, answers and replies as moderation sees them (moderation.registry)."""

from django.db.models import Count
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from forum import selectors, services
from forum.models import Answer, PostState, Question, Reply
from moderation import registry
from notifications.models import Verb
from notifications.services import notify


def _question_of(post) -> Question:
    return post if isinstance(post, Question) else post.question


def _describe(post) -> str:
    kind = {Question: _("question"), Answer: _("answer"), Reply: _("reply")}[type(post)]
    return f"{kind} “{_question_of(post).title[:80]}”"


def _text(post) -> str:
    return f"{post.title}\n\n{post.body}" if isinstance(post, Question) else post.body


def _link(post) -> tuple[str, str]:
    question = _question_of(post)
    return question.title, question.get_absolute_url()


def _tell_author(post, *, verb: str, reason: str = "") -> None:
    notify(
        recipients=[post.author],
        verb=verb,
        url=post.get_absolute_url(),
        data={"title": _question_of(post).title, "reason": reason},
    )


def _approve(post, *, case, moderator) -> str:
    first_publication = case.kind == case.Kind.HELD
    services.post_publish(post=post, announce=first_publication)
    if first_publication:
        _tell_author(post, verb=Verb.POST_APPROVED)
    return "approve"


def _reject(post, *, case, moderator, reason: str) -> str:
    services.post_withdraw(post=post, state=PostState.REJECTED, reason=reason)
    _tell_author(post, verb=Verb.POST_REJECTED, reason=reason)
    return "reject"


def _redact(post, *, case, moderator, title: str, body: str) -> None:
    services.post_redact(
        post=post, moderator=moderator, title=title, body=body, announce=case.kind == case.Kind.HELD
    )
    _tell_author(post, verb=Verb.POST_APPROVED)


def _history_of(model):
    def history(author_ids) -> dict[int, dict[str, int]]:
        counts: dict[int, dict[str, int]] = {}
        rows = (
            model.objects.filter(author_id__in=author_ids)
            .values("author_id", "state")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            counts.setdefault(row["author_id"], {})[row["state"]] = row["n"]
        return counts

    return history


def _lookup(model):
    def lookup(pk: int, viewer):
        """The published post, if its question page shows it to ``viewer``; else 404.

        A published answer or reply is no more readable than the question (and,
        for a reply, the answer) it hangs under: hidden, held or deleted, that is
        a 404 on the question page, so it is one here too.
        """
        try:
            post = model.objects.published().get(pk=pk)
        except model.DoesNotExist:
            raise Http404 from None
        if model is not Question:
            post.question = selectors.question_get_for_viewer(pk=post.question_id, viewer=viewer)
        answer_id = getattr(post, "answer_id", None)
        if (
            answer_id is not None
            and not Answer.objects.visible_to(viewer).filter(pk=answer_id).exists()
        ):
            raise Http404
        return post

    return lookup


def _next_url(post, viewer) -> str:
    if Question.objects.visible_to(viewer).filter(pk=_question_of(post).pk).exists():
        return post.get_absolute_url()
    return reverse("forum:question-list")


def _flagging(model) -> registry.Flagging:
    return registry.Flagging(
        lookup=_lookup(model),
        is_public=lambda post: post.state == PostState.PUBLISHED,
        can_flag=lambda post: post.is_published or post.state == PostState.HIDDEN,
        hide=lambda post: services.post_withdraw(post=post, state=PostState.HIDDEN),
        next_url=_next_url,
    )


def register() -> None:
    """Called from ``ForumConfig.ready``."""
    querysets = {
        Question: lambda: Question.objects.select_related("author", "category"),
        Answer: lambda: Answer.objects.select_related("author", "question"),
        Reply: lambda: Reply.objects.select_related("author", "question"),
    }
    for model, queryset in querysets.items():
        registry.register(
            registry.Kind(
                name=model._meta.model_name,
                model=model,
                describe=_describe,
                queryset=queryset,
                author=lambda post: post.author,
                template="forum/_moderation_case.html",
                approve=_approve,
                reject=_reject,
                text=_text,
                link=_link,
                redact=_redact,
                history=_history_of(model),
                flagging=_flagging(model),
                approve_label=gettext_lazy("Approve"),
                reject_label=gettext_lazy("Reject"),
                actions={
                    "lock": gettext_lazy("Question locked"),
                    "unlock": gettext_lazy("Question opened again"),
                    "duplicate_mark": gettext_lazy("Marked as a duplicate"),
                    "duplicate_unmark": gettext_lazy("Duplicate mark undone"),
                },
            )
        )
