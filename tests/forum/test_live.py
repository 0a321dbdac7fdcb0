"""A live answer or reply looks, for each reader, as it would after a reload.

The question's socket says what is new (``forum.live``); a signed-in page
fetches that post for its own session (``forum:answer-fragment``,
``forum:reply-fragment``) and inserts it with the controls it has on a
reloaded page.
"""

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from forum import live, services
from forum.models import PostState

pytestmark = pytest.mark.django_db

ACCEPT = "Accept this answer"
THANK = ">Thank</button>"
FLAG = 'class="flag-link"'
REPLY_BOX = "Reply to this answer"


class RecordingLayer:
    def __init__(self):
        self.sent = []

    def group_send_all(self, messages, **options):
        self.sent += [(group, json.loads(json.dumps(message))) for group, message in messages]


@pytest.fixture
def layer(monkeypatch):
    recording = RecordingLayer()
    monkeypatch.setattr(live, "group_send_all", recording.group_send_all)
    return recording


@pytest.fixture
def asked(question_factory, patient):
    return question_factory(author=patient)


def answer_on(question, doctor, body="Rest, hydrate and tell your oncologist how you feel."):
    return services.answer_create(question=question, author=doctor, body=body)


def answer_fragment(question, answer):
    return reverse("forum:answer-fragment", args=[question.pk, answer.pk])


def test_the_socket_message_says_where_the_readers_own_copy_is(
    asked, doctor, user_factory, layer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = answer_on(asked, doctor)
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply_create(
            question=asked, answer=answer, author=user_factory(), body="Same question here."
        )
    (group, first), (_group, second) = layer.sent
    assert group == live.question_group(asked.pk)
    for payload in first["payloads"].values():
        # SPEC section 6's fields stay; "fragment" is added.
        assert {"type", "id", "html", "author"} <= payload.keys()
        assert payload["fragment"] == answer_fragment(asked, answer)
    assert second["payloads"]["en"]["fragment"] == reverse(
        "forum:reply-fragment", args=[asked.pk, reply.pk]
    )


def test_the_asker_can_accept_a_live_answer(client, asked, doctor, patient):
    answer = answer_on(asked, doctor)
    client.force_login(patient)
    response = client.get(answer_fragment(asked, answer))
    content = response.content.decode()
    assert response.status_code == 200
    assert f'id="answer-{answer.pk}"' in content
    assert ACCEPT in content and reverse("forum:answer-accept", args=[answer.pk]) in content
    assert 'name="csrfmiddlewaretoken"' in content
    assert "<html" not in content  # the partial alone
    assert "no-cache" in response["Cache-Control"]


def test_members_can_thank_reply_to_and_flag_a_live_answer(client, asked, doctor, user_factory):
    answer = answer_on(asked, doctor)
    client.force_login(user_factory())
    content = client.get(answer_fragment(asked, answer)).content.decode()
    assert THANK in content and FLAG in content and REPLY_BOX in content
    assert ACCEPT not in content


def test_a_visitor_gets_the_visitors_copy(client, asked, doctor):
    answer = answer_on(asked, doctor)
    content = client.get(answer_fragment(asked, answer)).content.decode()
    assert "Verified physician" in content
    for control in (ACCEPT, THANK, FLAG, REPLY_BOX):
        assert control not in content


def test_a_live_reply_has_its_flag_link(client, asked, doctor, user_factory):
    answer = answer_on(asked, doctor)
    reply = services.reply_create(
        question=asked, answer=answer, author=user_factory(), body="Thank you, doctor."
    )
    client.force_login(user_factory())
    response = client.get(reverse("forum:reply-fragment", args=[asked.pk, reply.pk]))
    content = response.content.decode()
    assert response.status_code == 200 and f'id="reply-{reply.pk}"' in content
    assert reverse("moderation:flag", args=["reply", reply.pk]) in content


def test_a_fragment_shows_only_what_the_question_page_shows(
    client, asked, question_factory, doctor, user_factory, moderator
):
    answer = answer_on(asked, doctor)
    reply = services.reply_create(
        question=asked, answer=answer, author=user_factory(), body="Thank you, doctor."
    )
    other_question = question_factory()
    reader = user_factory()
    client.force_login(reader)
    # Another question's post, an unknown post, a post under the wrong question.
    assert client.get(answer_fragment(other_question, answer)).status_code == 404
    assert client.get(reverse("forum:answer-fragment", args=[asked.pk, 99999])).status_code == 404
    # A hidden answer, and the replies under it, are gone for readers but not for moderators.
    type(answer).objects.filter(pk=answer.pk).update(state=PostState.HIDDEN)
    reply_url = reverse("forum:reply-fragment", args=[asked.pk, reply.pk])
    assert client.get(answer_fragment(asked, answer)).status_code == 404
    assert client.get(reply_url).status_code == 404
    client.force_login(moderator)
    assert client.get(reply_url).status_code == 200
    # A deleted question takes its posts with it.
    type(asked).objects.filter(pk=asked.pk).update(deleted_at=timezone.now())
    client.force_login(reader)
    type(answer).objects.filter(pk=answer.pk).update(state=PostState.PUBLISHED)
    assert client.get(answer_fragment(asked, answer)).status_code == 404


@pytest.mark.parametrize("n_replies", [1, 12])
def test_an_answer_fragment_query_count_is_flat(
    client, question_factory, user_factory, n_replies, django_assert_num_queries
):
    question = question_factory(answers=1, replies_per_answer=n_replies)
    answer = question.answers.get()
    client.force_login(user_factory())
    client.get("/")  # warm the session cache
    # session user with the bell's unread count, question, its tags, the answer
    # with its doctor, its replies, thanks given
    with django_assert_num_queries(6):
        response = client.get(answer_fragment(question, answer))
    assert response.content.decode().count('class="reply"') == n_replies


def test_the_answer_count_heading_carries_its_plural_forms(client, question_factory):
    question = question_factory()
    content = client.get(question.get_absolute_url()).content.decode()
    assert 'data-count-one="%(counter)s physician answer"' in content
    assert 'data-count-other="%(counter)s physician answers"' in content
    assert "data-own-fragments" not in content  # a visitor's page uses the message's copy
    with translation.override("zh-hans"):
        content = client.get(question.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert 'data-count-other="%(counter)s 条医师回答"' in content.content.decode()


def test_a_members_page_asks_for_its_own_copies(client, question_factory, patient):
    question = question_factory()
    client.force_login(patient)
    assert "data-own-fragments" in client.get(question.get_absolute_url()).content.decode()


def _article(html: str, answer) -> str:
    start = html.index(f'<article class="answer" id="answer-{answer.pk}"')
    text = html[start : html.index("</article>", start)]
    # Each render masks the CSRF token anew.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


@pytest.mark.parametrize("reader", ["asker", "member", "doctor", "moderator"])
def test_a_live_answer_is_the_answer_of_the_reloaded_page(
    client, asked, doctor, patient, user_factory, moderator, reader
):
    answer = answer_on(asked, doctor)
    services.reply_create(question=asked, answer=answer, author=user_factory(), body="Me too.")
    people = {"asker": patient, "member": user_factory(), "doctor": doctor, "moderator": moderator}
    client.force_login(people[reader])
    fragment = client.get(answer_fragment(asked, answer)).content.decode()
    page = client.get(asked.get_absolute_url()).content.decode()
    assert _article(fragment, answer) == _article(page, answer)
