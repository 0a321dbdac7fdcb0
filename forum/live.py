"""Newly published answers and replies, pushed to everyone reading the question.

Fragments are rendered with the page's own partials, once per language, as
a visitor sees them (SPEC section 6: ``/ws/questions/<id>/``). A signed-in
reader sees more (accept, thank, reply, flag): their page fetches the post
again, for its own session, from the address in ``fragment``.
"""

import logging

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from core.layer import group_send_all
from forum.models import Answer, Question, Reply
from forum.selectors import QuestionPage, author_display

logger = logging.getLogger(__name__)

POST_EVENT = "question.post"


def question_group(question_id: int) -> str:
    return f"forum.question.{question_id}"


def _fragment(post, language: str) -> dict:
    question = post.question
    visitor = AnonymousUser()
    context = {
        "user": visitor,
        "question": question,
        "qpage": QuestionPage(question=question, answers=[], question_replies=[]),
        "can_reply": False,
        "is_asker": False,
    }
    with translation.override(language):
        if isinstance(post, Answer):
            post.visible_replies = []
            post.is_accepted = question.accepted_answer_id == post.pk
            html = render_to_string("forum/question_detail.html#answer", context | {"answer": post})
        else:
            html = render_to_string("forum/question_detail.html#reply", context | {"reply": post})
        return {
            "type": "answer" if isinstance(post, Answer) else "reply",
            "id": post.pk,
            "html": html,
            "author": str(author_display(post, visitor)),
            "fragment": reverse(
                "forum:answer-fragment" if isinstance(post, Answer) else "forum:reply-fragment",
                args=[question.pk, post.pk],
            ),
            **({"answer": post.answer_id} if isinstance(post, Reply) else {}),
        }


def broadcast_post(post: Answer | Reply) -> None:
    """Send a newly published answer or reply to the question's open pages; never raises."""
    question: Question = post.question
    if not question.is_published or not post.is_published:
        return
    try:
        message = {
            "type": POST_EVENT,
            "payloads": {code: _fragment(post, code) for code, _name in settings.LANGUAGES},
        }
        group_send_all([(question_group(question.pk), message)])
    except Exception as error:  # noqa: BLE001 - the post is saved; readers see it on reload
        logger.warning(
            "forum: live broadcast of %s %s failed: %s", type(post).__name__, post.pk, error
        )
