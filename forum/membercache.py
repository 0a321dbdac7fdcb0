"""A member's question page from the shared, cached body, with only what is theirs filled in.

Visitors get whole pages from ``core.pagecache``. Signed-in patients who
wrote nothing on a question see the same page as each other, apart from
the thank button of each answer, the follow button and the CSRF token; the
header around it is theirs too (the bell, their name). So the page's body
is rendered once per process, question, language, time zone and forum
version with a slot in place of each of those buttons, and both forms of
every button are kept beside it. A request then costs one query for the
member's own state on the question (thanks, follow, posts: one UNION) on
top of the session's user and the bell, and a render of the layout.

Anyone else goes the ordinary way: moderators, physicians (answer form,
duty panel), the asker (accept buttons, consent), a member with a post on
the question (edit links, their pending posts), a suspended member (no
forms), and everybody while the shared cache is unreachable
(``listcache.version()`` is None).
"""

import hashlib
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.db.models import IntegerField, Value
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from accounts.models import User
from core.pagecache import PLACEHOLDER
from forum import listcache
from forum.models import Answer, Follow, Reply, Thanks

# Unguessable, so no text in a post can be taken for a slot.
_SLOT_SECRET = secrets.token_hex(16)
TIMEOUT = 300

THANKS, FOLLOWING, OWN_POST = 1, 2, 3


def slot(kind: str, pk: int) -> str:
    return f"<!--{_SLOT_SECRET}:{kind}:{pk}-->"


@dataclass
class Body:
    """One question's shared body, and both forms of each button that is the member's own."""

    question_id: int
    author_id: int
    slug: str
    title: str
    html: str
    thank: dict[int, tuple[str, str]] = field(default_factory=dict)  # pk: (to thank, thanked)
    follow: tuple[str, str] = ("", "")  # (to follow, following)


def eligible(user) -> bool:
    """Whether ``user``'s page may come from the shared body (their own posts are checked later)."""
    return bool(
        getattr(settings, "SHUKANG_MEMBER_PAGE_CACHE", True)
        and user.is_authenticated
        and user.is_active
        and user.role == User.Role.PATIENT
        and not user.is_superuser
        and not user.is_suspended
    )


def _key(pk: int, version: int) -> str:
    parts = (
        "member-question",
        str(pk),
        str(version),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
    )
    return "member:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def cached(pk: int) -> tuple[str | None, Body | None]:
    """The cache key for question ``pk`` now (None: nothing may be cached), and its body if kept."""
    version = listcache.version()
    if version is None:
        return None, None
    key = _key(pk, version)
    return key, caches["pages"].get(key)


def store(key: str, body: Body) -> None:
    caches["pages"].set(key, body, TIMEOUT)


def own_state(*, user, question_id: int) -> tuple[set[int], bool, bool]:
    """(answers thanked, following, has a post here) in one query."""
    rows = (
        Thanks.objects.filter(user=user, answer__question_id=question_id)
        .annotate(kind=Value(THANKS, output_field=IntegerField()))
        .values_list("kind", "answer_id")
        .order_by()
        .union(
            Follow.objects.filter(user=user, question_id=question_id)
            .annotate(kind=Value(FOLLOWING, output_field=IntegerField()))
            .values_list("kind", "question_id")
            .order_by(),
            Answer.objects.filter(author=user, question_id=question_id)
            .annotate(kind=Value(OWN_POST, output_field=IntegerField()))
            .values_list("kind", "pk")
            .order_by(),
            Reply.objects.filter(author=user, question_id=question_id)
            .annotate(kind=Value(OWN_POST, output_field=IntegerField()))
            .values_list("kind", "pk")
            .order_by(),
            all=True,
        )
    )
    thanked, following, posted = set(), False, False
    for kind, pk in rows:
        if kind == THANKS:
            thanked.add(pk)
        elif kind == FOLLOWING:
            following = True
        else:
            posted = True
    return thanked, following, posted


def render_body(request, context: dict) -> Body:
    """Render the body with slots, and each button both ways, for every plain member."""
    question, qpage = context["question"], context["qpage"]
    context = {**context, "csrf_token": PLACEHOLDER}
    html = render_to_string(
        "forum/question_detail.html#body", {**context, "member_slots": True}, request=request
    )
    body = Body(
        question_id=question.pk,
        author_id=question.author_id,
        slug=question.slug,
        title=question.title,
        html=html,
    )
    for answer in qpage.answers:
        forms = []
        for thanked in (set(), {answer.pk}):
            page = {"thanked_ids": thanked}
            forms.append(
                render_to_string(
                    "forum/question_detail.html#thank_slot",
                    {**context, "answer": answer, "qpage": page},
                )
            )
        body.thank[answer.pk] = tuple(forms)
    follow = []
    for following in (False, True):
        page = {"is_following": following}
        follow.append(
            render_to_string("forum/question_detail.html#follow_slot", {**context, "qpage": page})
        )
    body.follow = tuple(follow)
    return body


def fill(request, body: Body, *, thanked: set[int], following: bool) -> str:
    """The body as this member sees it: their buttons and their CSRF token in the slots."""
    html = body.html
    for pk, (to_thank, done) in body.thank.items():
        html = html.replace(slot("thank", pk), done if pk in thanked else to_thank)
    html = html.replace(slot("follow", body.question_id), body.follow[following])
    return mark_safe(html.replace(PLACEHOLDER, get_token(request)))  # noqa: S308 - rendered by our templates
