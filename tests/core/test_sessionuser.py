"""A page reader's user, kept in the process until something of theirs changes (core.sessionuser).

Each change is made the way the site makes it, in a transaction that
commits (``changed``), and the member's next page must show it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from forum import services as forum_services
from forum.models import PostState, Question
from notifications import services as notification_services
from notifications.services import notify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kept")]


@pytest.fixture
def changed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def member(client, user_factory):
    person = user_factory(name="Zhao Lei")
    client.force_login(person)
    return person


def _page(client, url="/questions/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_member_reading_pages_costs_no_query_for_their_user(
    client, member, question_factory, django_assert_num_queries
):
    question_factory(answers=1)
    _page(client)  # the shared list, and the member kept
    with django_assert_num_queries(0):
        assert "Zhao Lei" in _page(client)


def test_a_new_name_shows_on_the_next_page(client, member, changed):
    _page(client)
    with changed():
        member.name = "Zhao Lei-Ming"
        member.save()
    assert "Zhao Lei-Ming" in _page(client)


def test_a_suspension_shows_on_the_next_page(client, member, changed, question_factory):
    question = question_factory(answers=1)
    assert "Reply" in _page(client, question.get_absolute_url())
    with changed():
        member.suspended_until = timezone.now() + timedelta(days=3)
        member.save()
    assert 'data-testid="suspension-banner"' in _page(client, question.get_absolute_url())


def test_a_new_notification_and_reading_it_move_the_bell(client, member, changed):
    assert "data-unread>0<" in _page(client)
    with changed():
        notify(recipients=[member], verb="answer", url="/questions/", data={})
    assert 'class="bell-count" data-unread>1<' in _page(client)
    with changed():
        notification_services.notifications_mark_read(user=member)
    assert 'class="bell-count is-zero" data-unread>0<' in _page(client)


def test_a_held_question_of_their_own_shows_at_once(client, member, changed, question_factory):
    _page(client)
    with changed():
        held = question_factory(author=member, title="Waiting for a moderator to read it")
        held.state = PostState.PENDING
        held.save()
    assert "Waiting for a moderator to read it" in _page(client)
    with changed():
        forum_services.post_delete(post=held, user=member)
    assert "Waiting for a moderator to read it" not in _page(client)


def test_following_shows_on_the_question_page_at_once(client, member, changed, question_factory):
    question = question_factory(answers=1)
    assert "Unfollow" not in _page(client, question.get_absolute_url())
    with changed():
        client.post(f"/questions/{question.pk}/follow/")
    assert "Unfollow" in _page(client, question.get_absolute_url())


def test_a_write_reads_the_row_as_it_is(client, member, question_factory):
    """Changed behind the site's back (no commit hook runs): pages may lag, a write does not."""
    question = question_factory(answers=1)
    _page(client, question.get_absolute_url())
    User.objects.filter(pk=member.pk).update(suspended_until=timezone.now() + timedelta(days=3))
    response = client.post(f"/questions/{question.pk}/reply/", {"body": "Thank you, doctor."})
    assert not question.replies.filter(body="Thank you, doctor.").exists()
    assert response.status_code in (200, 403)


def test_nothing_is_kept_while_the_shared_cache_is_unreachable(
    client, member, monkeypatch, django_assert_num_queries
):
    from core import sessionuser

    monkeypatch.setattr(sessionuser._members, "get", lambda: None)
    _page(client)
    with django_assert_num_queries(1):  # the user, with the bell, from the database
        client.get("/questions/")


def test_a_question_state_changed_by_moderation_shows_to_its_asker(
    client, member, changed, question_factory, moderator
):
    question = question_factory(author=member, title="Published, then hidden by a moderator")
    _page(client)
    with changed():
        forum_services.post_withdraw(post=Question.objects.get(pk=question.pk), state="hidden")
    page = _page(client)
    assert "Published, then hidden by a moderator" in page.split('id="own-unpublished-title"')[1]


def test_a_thanks_and_a_held_reply_show_on_the_question_at_once(
    client, member, changed, question_factory, settings
):
    question = question_factory(answers=2)
    answer = question.answers.first()
    assert "You thanked this answer" not in _page(client, question.get_absolute_url())
    with changed():
        forum_services.answer_thank(answer=answer, user=member)
    assert _page(client, question.get_absolute_url()).count("You thanked this answer") == 1
    with changed():
        reply = forum_services.reply_create(
            question=question, author=member, body="Held back for the moderators"
        )
        reply.state = PostState.PENDING
        reply.save()
    assert "Held back for the moderators" in _page(client, question.get_absolute_url())


def test_a_moderators_suspension_shows_on_the_next_page(
    client, member, changed, question_factory, moderator
):
    from moderation import services as moderation_services

    question = question_factory(answers=1)
    _page(client, question.get_absolute_url())
    with changed():
        moderation_services.user_suspend(
            user=member,
            moderator=moderator,
            until=timezone.now() + timedelta(days=7),
            reason="Shared a phone number twice",
        )
    assert 'data-testid="suspension-banner"' in _page(client, question.get_absolute_url())


def test_a_physicians_profile_is_kept_with_them_until_it_changes(
    client, doctor, changed, question_factory, django_assert_max_num_queries
):
    question = question_factory()
    client.force_login(doctor)
    assert 'id="answer-form-title"' in _page(client, question.get_absolute_url())
    with django_assert_max_num_queries(20) as captured:
        _page(client, question.get_absolute_url())
    own = 'FROM "accounts_physicianprofile" WHERE'
    assert not any(own in q["sql"] for q in captured.captured_queries)  # kept with them
    profile = doctor.physician_profile
    with changed():
        profile.status = profile.Status.REFUSED
        profile.save()
    assert 'id="answer-form-title"' not in _page(client, question.get_absolute_url())
