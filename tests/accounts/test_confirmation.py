"""Confirming the e-mail address after signing up: signed in where it is safe, one sign-in elsewhere."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "mei@example.com",
    "name": "Mei",
    "password1": "quiet-river-morning-42",
    "password2": "quiet-river-morning-42",
}


@pytest.fixture
def signed_up(client, mailoutbox, django_capture_on_commit_callbacks):
    """Sign up in ``client``; return the path of the confirmation link mailed."""
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP)
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mailoutbox[-1].body)
    return link[1]


def messages_on(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_confirming_in_the_browser_that_signed_up_signs_the_member_in(client, signed_up):
    page = client.get(signed_up)
    # The link shows a form: mail scanners that follow links confirm nothing.
    # (The form's key is signed anew, so once a second has passed it differs.)
    assert page.status_code == 200
    assert re.search(r'action="/accounts/confirm-email/[^"]+/"', page.content.decode())
    response = client.post(signed_up, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert response.context["user"].email == SIGNUP["email"]
    assert f"You have confirmed {SIGNUP['email']}." in messages_on(response)
    assert 'data-testid="header-user-name">Mei<' in response.content.decode()


def test_confirming_in_another_browser_asks_for_one_sign_in(client, signed_up):
    # A phone's mail app opens the link in a browser that never signed up:
    # whoever holds a link is not signed in by it.
    other = Client()
    response = other.post(signed_up, follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_login")
    assert not response.context["user"].is_authenticated
    assert messages_on(response) == [
        f"You have confirmed {SIGNUP['email']}.",
        "Sign in with this address and your password to continue.",
    ]
    signed_in = other.post(
        reverse("account_login"),
        {"login": SIGNUP["email"], "password": SIGNUP["password1"]},
        follow=True,
    )
    assert signed_in.context["user"].email == SIGNUP["email"]


def test_confirming_within_the_hour_after_signing_up_still_signs_in(client, signed_up, monkeypatch):
    from allauth.account.internal import stagekit

    # allauth times the pending sign-in with time.time() in stagekit.
    later = time.time() + 50 * 60
    monkeypatch.setattr(stagekit, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    response = client.post(signed_up, follow=True)
    assert response.context["user"].email == SIGNUP["email"]


def test_confirming_after_the_login_timeout_asks_for_one_sign_in(client, signed_up, settings):
    settings.ACCOUNT_LOGIN_TIMEOUT = 0
    response = client.post(signed_up, follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_login")
    assert not response.context["user"].is_authenticated
    assert "Sign in with this address and your password to continue." in messages_on(response)


def test_confirming_after_a_refused_sign_in_signs_the_member_in(client, signed_up):
    # Trying to sign in before confirming (refused) keeps the pending sign-in.
    refused = client.post(
        reverse("account_login"),
        {"login": SIGNUP["email"], "password": SIGNUP["password1"]},
        follow=True,
    )
    assert not refused.context["user"].is_authenticated
    response = client.post(signed_up, follow=True)
    assert response.context["user"].email == SIGNUP["email"]
