"""Members' question pages from the shared body: the same bytes as the page rendered for them.

For every role the page with the member cache on is compared with the page
rendered the usual way (``SHUKANG_MEMBER_PAGE_CACHE`` off), byte for byte
once the CSRF tokens (different on every render) are set aside.
"""

import re
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from duty import services as duty_services
from forum import services
from forum.models import Answer, PostState, Reply
from tests.memberpages import both

pytestmark = pytest.mark.usefixtures("kept")


@pytest.fixture
def answered(question_factory, doctor_factory, user_factory):
    question = question_factory(answers=2, replies_per_answer=1, replies=1)
    return question


@pytest.fixture
def roles(answered, user_factory, doctor_factory, moderator):
    replier = Reply.objects.filter(question=answered).first().author
    pending = user_factory(name="Pending Replier")
    reply = services.reply_create(question=answered, author=pending, body="Waiting for review here")
    Reply.objects.filter(pk=reply.pk).update(state=PostState.PENDING)
    suspended = user_factory(name="Suspended Member")
    suspended.suspended_until = timezone.now() + timedelta(days=2)
    suspended.save()
    return {
        "visitor": None,
        "member": user_factory(name="Plain Member"),
        "asker": answered.author,
        "replier": replier,
        "pending": pending,
        "suspended": suspended,
        "physician": doctor_factory(name="Dr. Other"),
        "moderator": moderator,
    }


@pytest.mark.parametrize(
    "role",
    ["visitor", "member", "asker", "replier", "pending", "suspended", "physician", "moderator"],
)
def test_every_roles_page_is_the_same_with_the_member_cache(
    client, settings, answered, roles, role
):
    if roles[role] is not None:
        client.force_login(roles[role])
    caches["pages"].clear()
    usual, cached = both(client, settings, answered.get_absolute_url())
    assert cached == usual
    # Plain members, verified physicians and moderators, and only they, from a shared body.
    shared = any(":member:" in key for key in caches["pages"]._cache)
    assert shared == (role in {"member", "physician", "moderator"})
    # Others who touched nothing of it and moderate nothing, from the kept visitors' parts.
    reader = any(":reader-question:" in key for key in caches["pages"]._cache)
    assert reader == (role == "suspended")
    # What each role sees of the pending reply stays as it was.
    assert ("Waiting for review here" in cached) == (role in {"pending", "moderator"})


def test_a_members_thanks_and_follow_are_their_own(client, settings, answered, user_factory):
    member, other = user_factory(), user_factory()
    answer = answered.answers.first()
    services.answer_thank(answer=answer, user=member)
    services.question_follow(question=answered, user=member)
    client.force_login(member)
    usual, cached = both(client, settings, answered.get_absolute_url())
    assert cached == usual
    assert cached.count("You thanked this answer") == 1 and "Unfollow" in cached
    # The next member shares the body, with their own buttons.
    client.force_login(other)
    usual, cached = both(client, settings, answered.get_absolute_url())
    assert cached == usual
    assert "You thanked this answer" not in cached and "Unfollow" not in cached


def test_an_anonymous_question_stays_anonymous_to_members(
    client, settings, question_factory, patient, user_factory
):
    question = question_factory(author=patient, is_anonymous=True, answers=1)
    client.force_login(user_factory())
    usual, cached = both(client, settings, question.get_absolute_url())
    assert cached == usual
    assert "Anonymous patient" in cached and patient.name not in cached.split("</header>", 1)[1]


@pytest.mark.parametrize("n_answers", [1, 20])
def test_a_members_page_costs_two_queries_then_none_however_long(
    client, question_factory, user_factory, n_answers, django_assert_num_queries
):
    question = question_factory(answers=n_answers, replies_per_answer=1)
    client.force_login(user_factory())
    client.get(question.get_absolute_url())  # the first member fills the shared page
    client.force_login(user_factory())
    # the session's user with the bell; the questions they thanked on, follow or posted on
    with django_assert_num_queries(2):
        response = client.get(question.get_absolute_url())
    assert response.content.decode().count('<article class="answer') == n_answers
    # Both are kept with their user (core.sessionuser) until the members' version moves.
    with django_assert_num_queries(0):
        client.get(question.get_absolute_url())


@pytest.mark.parametrize("n_answers", [1, 20])
def test_a_question_a_member_touched_costs_one_query_for_their_buttons(
    client, question_factory, user_factory, n_answers, django_assert_num_queries
):
    question = question_factory(answers=n_answers)
    member = user_factory()
    services.question_follow(question=question, user=member)
    client.force_login(member)
    client.get(question.get_absolute_url())
    with django_assert_num_queries(1):  # their thanks, follow and posts here (one UNION)
        page = client.get(question.get_absolute_url()).content.decode()
    assert "Unfollow" in page


def test_a_new_answer_reaches_members_after_its_commit(
    client, answered, user_factory, doctor_factory, django_capture_on_commit_callbacks
):
    client.force_login(user_factory())
    client.get(answered.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_create(
            question=answered, author=doctor_factory(), body="A third answer, just written."
        )
    assert (
        "A third answer, just written." in client.get(answered.get_absolute_url()).content.decode()
    )


def test_a_members_own_thank_shows_at_once(
    client, answered, user_factory, django_capture_on_commit_callbacks
):
    member = user_factory()
    client.force_login(member)
    answer = answered.answers.first()
    assert "You thanked this answer" not in client.get(answered.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # as the request's commit would
        client.post(f"/answers/{answer.pk}/thank/")
    assert "You thanked this answer" in client.get(answered.get_absolute_url()).content.decode()


def test_a_wrong_slug_still_redirects_to_the_right_one(client, answered, user_factory):
    client.force_login(user_factory())
    client.get(answered.get_absolute_url())  # cached
    response = client.get(f"/questions/{answered.pk}/not-the-slug/")
    assert response.status_code == 301 and response["Location"] == answered.get_absolute_url()


@pytest.mark.parametrize("n_answers", [1, 20])
def test_a_physicians_page_costs_only_their_own_panels_however_long(
    client, question_factory, doctor, n_answers, django_assert_num_queries
):
    question = question_factory(answers=n_answers, replies_per_answer=1)
    client.force_login(doctor)
    client.get(question.get_absolute_url())  # their user and the physicians' page kept
    # their duty panel: the question's routing to the duty rota, the groups to pass it to
    with django_assert_num_queries(2):
        page = client.get(question.get_absolute_url()).content.decode()
    assert page.count('<article class="answer') == n_answers
    assert 'id="answer-form-title"' in page


def test_a_physicians_own_answer_waiting_for_review_shows_to_them_alone(
    client, settings, answered, doctor, user_factory
):
    answer = services.answer_create(question=answered, author=doctor, body="Held for review here")
    Answer.objects.filter(pk=answer.pk).update(state=PostState.PENDING)
    client.force_login(doctor)
    usual, cached = both(client, settings, answered.get_absolute_url())
    assert cached == usual and "Held for review here" in cached
    client.force_login(user_factory(name="Another Reader"))
    assert "Held for review here" not in client.get(answered.get_absolute_url()).content.decode()


def test_a_new_answer_reaches_a_physician_after_its_commit(
    client, answered, doctor, doctor_factory, django_capture_on_commit_callbacks
):
    client.force_login(doctor)
    client.get(answered.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_create(
            question=answered, author=doctor_factory(), body="A colleague's answer, just written."
        )
    page = client.get(answered.get_absolute_url()).content.decode()
    assert "A colleague's answer, just written." in page


@pytest.fixture
def waiting(question_factory, user_factory):
    """A question no physician has answered yet, with a reply from another member."""
    return question_factory(replies=1)


def test_physicians_share_a_page_each_with_their_own_duty_panel(
    client, settings, waiting, doctor_factory
):
    first, other = doctor_factory(name="Dr. First"), doctor_factory(name="Dr. Other")
    client.force_login(first)
    client.get(waiting.get_absolute_url())  # the physicians' page, rendered for the first
    client.force_login(other)
    usual, cached = both(client, settings, waiting.get_absolute_url())
    assert cached == usual
    assert "Dr. Other" in cached.split("</header>", 1)[0]
    assert "Dr. First" not in cached
    assert 'id="answer-form-title"' in cached and "answering this" in cached


def test_a_physicians_claim_shows_to_them_and_to_the_others(
    client, settings, waiting, doctor_factory
):
    first, other = doctor_factory(name="Dr. First"), doctor_factory(name="Dr. Other")
    client.force_login(other)
    client.get(waiting.get_absolute_url())  # shared before the claim
    duty_services.question_claim(question=waiting, physician=first)  # moves no version
    client.force_login(first)
    usual, cached = both(client, settings, waiting.get_absolute_url())
    assert cached == usual and "You are answering this question." in cached
    client.force_login(other)
    usual, cached = both(client, settings, waiting.get_absolute_url())
    assert cached == usual and "Dr. First is answering this question." in cached


def test_a_physician_answers_and_claims_through_the_shared_pages_forms(waiting, doctor_factory):
    first, other = doctor_factory(name="Dr. First"), doctor_factory(name="Dr. Other")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(first)
    browser.get(waiting.get_absolute_url())  # the physicians' page, rendered for the first
    browser.force_login(other)
    page = browser.get(waiting.get_absolute_url()).content.decode()
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
    assert len(tokens) == 1  # the body's and the duty panel's forms carry this reader's token
    token = tokens.pop()
    claimed = browser.post(f"/questions/{waiting.pk}/claim/", {"csrfmiddlewaretoken": token})
    assert claimed.status_code == 302
    answered = browser.post(
        f"/questions/{waiting.pk}/answer/",
        {"body": "Rest, drink water and tell your oncologist at the next visit.",
         "csrfmiddlewaretoken": token},
    )  # fmt: skip
    assert answered.status_code == 302
    assert waiting.answers.get().author == other


@pytest.mark.parametrize("n_answers", [1, 20])
def test_a_moderators_page_costs_only_their_own_panels_however_long(
    client, question_factory, moderator, n_answers, django_assert_num_queries
):
    question = question_factory(answers=n_answers, replies_per_answer=1)
    answer = question.answers.first()
    services.answer_edit(answer=answer, editor=answer.author, body="An earlier answer, rewritten.")
    services.post_withdraw(post=question.answers.last(), state=PostState.HIDDEN)
    client.force_login(moderator)
    client.get(question.get_absolute_url())  # rendered once for every moderator
    with django_assert_num_queries(2):  # their duty panel: the routing, the groups to pass to
        page = client.get(question.get_absolute_url()).content.decode()
    assert page.count('<article class="answer') == n_answers
    assert "1 earlier version (moderators only)" in page
    assert any(":member:" in key for key in caches["pages"]._cache)


def test_moderators_share_a_page_with_their_own_header_and_forms(
    client, settings, answered, moderator, user_factory
):
    from accounts.models import User

    services.post_withdraw(post=answered.answers.last(), state=PostState.HIDDEN)
    first = user_factory(name="First Moderator", role=User.Role.MODERATOR)  # staff, as made
    plain = user_factory(name="Plain Moderator", role=User.Role.MODERATOR)
    User.objects.filter(pk=plain.pk).update(is_staff=False)
    for reader in (first, User.objects.get(pk=plain.pk)):  # a shared page for each kind
        client.force_login(reader)
        client.get(answered.get_absolute_url())
    client.force_login(moderator)
    usual, cached = both(client, settings, answered.get_absolute_url())
    assert cached == usual
    assert "First Moderator" not in cached and moderator.name in cached.split("</header>", 1)[0]
    assert "Lock question" in cached and "Mark as duplicate" in cached
    assert answered.answers.last().body_html in cached  # hidden, and shown to moderators
    assert "Administration" in cached
    client.force_login(User.objects.get(pk=plain.pk))
    usual, cached = both(client, settings, answered.get_absolute_url())
    assert cached == usual and "Administration" not in cached


def test_a_moderator_who_touched_a_question_has_its_kept_posts_and_their_own_buttons(
    client, answered, moderator, django_assert_num_queries
):
    services.question_follow(question=answered, user=moderator)
    client.force_login(moderator)
    client.get(answered.get_absolute_url())
    with django_assert_num_queries(4):  # their thanks and follow, the duty panel, the consensus
        page = client.get(answered.get_absolute_url()).content.decode()
    assert "Unfollow" in page
    assert any(":moderator-question:" in key for key in caches["pages"]._cache)


def test_a_moderators_thanks_and_follow_are_their_own(
    client, settings, answered, moderator, user_factory, django_assert_num_queries
):
    from accounts.models import User

    other = user_factory(name="Other Moderator", role=User.Role.MODERATOR)
    services.answer_thank(answer=answered.answers.first(), user=moderator)
    services.question_follow(question=answered, user=moderator)
    client.force_login(other)
    client.get(answered.get_absolute_url())  # kept by the other moderator
    client.force_login(moderator)
    usual, cached = both(client, settings, answered.get_absolute_url())
    assert cached == usual
    assert cached.count("You thanked this answer") == 1 and "Unfollow" in cached
    with django_assert_num_queries(4):  # + their thanks and follow here (one UNION)
        client.get(answered.get_absolute_url())
    client.force_login(other)
    usual, cached = both(client, settings, answered.get_absolute_url())
    assert cached == usual
    assert "You thanked this answer" not in cached and "Unfollow" not in cached


def test_what_moderators_alone_see_reaches_them_after_its_commit(
    client, settings, answered, moderator, django_capture_on_commit_callbacks
):
    client.force_login(moderator)
    client.get(answered.get_absolute_url())
    answer, reply = answered.answers.first(), Reply.objects.filter(question=answered).last()
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_edit(answer=answer, editor=answer.author, body="Rewritten by its author.")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_withdraw(post=reply, state=PostState.REJECTED, reason="Off topic here")
    usual, cached = both(client, settings, answered.get_absolute_url())
    assert cached == usual
    assert "Rewritten by its author." in cached and "1 earlier version (moderators only)" in cached
    assert reply.body in cached  # rejected, and still shown to moderators
    with django_capture_on_commit_callbacks(execute=True):
        services.post_delete(post=reply, user=moderator)
    assert reply.body not in client.get(answered.get_absolute_url()).content.decode()
