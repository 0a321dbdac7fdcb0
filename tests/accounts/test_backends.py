"""The session's user loaded in one query reads the same row as Django's own backend."""

from datetime import timedelta

import pytest
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.utils import timezone

from accounts.backends import AuthenticationBackend, ModelBackend
from accounts.models import User
from forum.models import PostState, Question
from notifications.services import notify

pytestmark = pytest.mark.django_db


def _fields(user: User) -> dict:
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


@pytest.mark.parametrize("backend", [ModelBackend, AuthenticationBackend])
def test_the_user_is_the_one_djangos_backend_loads(backend, user_factory):
    member = user_factory(name="Wang Fang")
    member.timezone = "Europe/Berlin"
    member.last_login = timezone.now() - timedelta(hours=3)
    member.suspended_until = timezone.now() + timedelta(days=1)
    member.save()
    loaded = backend().get_user(member.pk)
    assert _fields(loaded) == _fields(DjangoModelBackend().get_user(member.pk))
    assert loaded.is_suspended and loaded.last_login.tzinfo is not None


def test_the_bell_and_unpublished_questions_come_with_the_user(user_factory, question_factory):
    member, other = user_factory(), user_factory()
    assert ModelBackend().get_user(member.pk).member_state.unread == 0
    notify(recipients=[member], verb="answer", url="/questions/", data={})
    notify(recipients=[member, other], verb="reply", url="/questions/", data={})
    question = question_factory(author=member)
    state = ModelBackend().get_user(member.pk).member_state
    assert (state.unread, state.unpublished) == (2, False)
    assert state.last == member.notifications.order_by("-pk").first().pk
    Question.objects.filter(pk=question.pk).update(state=PostState.PENDING)
    assert ModelBackend().get_user(member.pk).member_state.unpublished
    member.notifications.update(read_at=timezone.now())
    assert ModelBackend().get_user(member.pk).member_state.unread == 0


def test_no_user_for_an_inactive_or_missing_account(user_factory):
    member = user_factory()
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert ModelBackend().get_user(member.pk) is None
    assert ModelBackend().get_user(member.pk + 1000) is None


def test_signing_in_still_works_with_the_email_and_password(client, user_factory):
    from tests.conftest import PASSWORD

    user_factory(email="li.na@example.com")
    response = client.post(
        "/accounts/login/", {"login": "li.na@example.com", "password": PASSWORD}, follow=True
    )
    assert response.context["user"].email == "li.na@example.com"
