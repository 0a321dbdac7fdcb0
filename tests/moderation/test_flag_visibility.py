"""The flag page shows a post only to those whose question page shows it.

Every kind of post (question, answer, reply under the question, reply under
an answer) in every state, and under a held, hidden or deleted question or
answer, for a visitor, another patient, the post's author, the asker and a
moderator.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from forum import services as forum
from forum.models import PostState
from moderation.models import Flag

pytestmark = pytest.mark.django_db

BODIES = {
    "question": "My father has stage III colon cancer; how long is adjuvant chemotherapy?",
    "answer": "Usually three to six months of CAPOX or FOLFOX, depending on the risk.",
    "reply": "We were told the same at our hospital, and it went well for us.",
    "answer_reply": "Did the neuropathy from oxaliplatin go away afterwards for you?",
}

VIEWERS = ["other", "author", "asker", "moderator"]


@pytest.fixture
def thread(user_factory, doctor_factory, moderator, category):
    """A question with an answer, a reply under the question and a reply under the answer."""
    asker, replier = user_factory(name="Asker Wu"), user_factory(name="Replier Qian")
    doctor = doctor_factory(name="Dr. Zhou")
    question = forum.question_create(
        author=asker,
        title="How long does adjuvant chemotherapy last?",
        body=BODIES["question"],
        category=category,
    )
    answer = forum.answer_create(question=question, author=doctor, body=BODIES["answer"])
    posts = {
        "question": question,
        "answer": answer,
        "reply": forum.reply_create(question=question, author=replier, body=BODIES["reply"]),
        "answer_reply": forum.reply_create(
            question=question, answer=answer, author=replier, body=BODIES["answer_reply"]
        ),
    }
    people = {"other": user_factory(name="Other Sun"), "asker": asker, "moderator": moderator}
    return posts, people


def change(post, change: str) -> None:
    """Put a post in a state, or delete it, behind the services' back."""
    fields = {"deleted": {"deleted_at": timezone.now()}}.get(change, {"state": change})
    type(post).objects.filter(pk=post.pk).update(**fields)


def flag_url(target: str, post) -> str:
    kind = "reply" if target == "answer_reply" else target
    return reverse("moderation:flag", args=[kind, post.pk])


PUBLISHED = dict.fromkeys(VIEWERS, 200)
NOBODY = dict.fromkeys(VIEWERS, 404)
# Held, hidden or rejected above the post: the question page is its author's and the moderators'.
ASKER_AND_MODERATORS = {"other": 404, "author": 404, "asker": 200, "moderator": 200}
MODERATORS = {"other": 404, "author": 404, "asker": 404, "moderator": 200}

# (post flagged, post changed, change, status for each viewer)
CASES = [
    ("question", None, None, PUBLISHED),
    *[("question", "question", state, NOBODY) for state in ["pending", "rejected", "hidden"]],
    ("question", "question", "deleted", NOBODY),
    ("answer", None, None, PUBLISHED),
    *[
        ("answer", "answer", state, NOBODY)
        for state in ["pending", "rejected", "hidden", "deleted"]
    ],
    *[("answer", "question", state, ASKER_AND_MODERATORS) for state in ["pending", "rejected"]],
    ("answer", "question", "hidden", ASKER_AND_MODERATORS),
    ("answer", "question", "deleted", NOBODY),
    ("reply", None, None, PUBLISHED),
    *[("reply", "reply", state, NOBODY) for state in ["pending", "rejected", "hidden", "deleted"]],
    ("reply", "question", "hidden", ASKER_AND_MODERATORS),
    ("reply", "question", "pending", ASKER_AND_MODERATORS),
    ("reply", "question", "deleted", NOBODY),
    ("answer_reply", None, None, PUBLISHED),
    *[
        ("answer_reply", "answer_reply", state, NOBODY)
        for state in ["pending", "rejected", "hidden", "deleted"]
    ],
    ("answer_reply", "question", "hidden", ASKER_AND_MODERATORS),
    ("answer_reply", "question", "deleted", NOBODY),
    # The asker's page leaves out an answer it may not show, and the replies under it.
    *[("answer_reply", "answer", state, MODERATORS) for state in ["pending", "rejected", "hidden"]],
    ("answer_reply", "answer", "deleted", NOBODY),
]


def case_id(case) -> str:
    target, changed, state, _expected = case
    return f"{target}-published" if changed is None else f"{target}-{changed}-{state}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_flag_page_follows_the_question_pages_visibility(client, thread, case):
    target, changed, state, expected = case
    posts, people = thread
    if changed is not None:
        change(posts[changed], state)
    post = posts[target]
    url = flag_url(target, post)
    assert client.get(url).status_code == 302  # a visitor is asked to sign in
    for viewer in VIEWERS:
        person = post.author if viewer == "author" else people[viewer]
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == expected[viewer], viewer
        question_page = client.get(posts["question"].get_absolute_url())
        shown = question_page.status_code == 200 and BODIES[target] in question_page.text
        # Published and on the viewer's question page, or not on the flag page either.
        assert (response.status_code == 200) == (shown and (changed != target)), viewer
        if response.status_code == 404:
            assert BODIES[target] not in response.text


def test_flags_cannot_be_posted_on_an_answer_under_a_hidden_question(client, thread):
    posts, people = thread
    change(posts["question"], PostState.HIDDEN)
    client.force_login(people["other"])
    response = client.post(flag_url("answer", posts["answer"]), {"reason": "spam"})
    assert response.status_code == 404
    assert not Flag.objects.exists()
