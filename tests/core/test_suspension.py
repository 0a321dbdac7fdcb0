"""A suspended member is told so on every page, with the end in their own time zone."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core.ratelimit import require_can_post
from core.suspension import suspension_message

pytestmark = pytest.mark.django_db

# 16:00 UTC is midnight in Shanghai: the day itself differs between the zones.
UNTIL = datetime(2099, 12, 3, 16, 0, tzinfo=UTC)
BANNER = 'data-testid="suspension-banner"'


@pytest.fixture
def suspended(user_factory):
    user = user_factory(name="Suspended Sun")
    user.suspended_until = UNTIL
    user.save(update_fields=["suspended_until"])
    return user


def refusal(user) -> str:
    with pytest.raises(PermissionDenied) as refused:
        require_can_post(user)
    return str(refused.value)


def test_the_refusal_names_the_end_in_china_standard_time_by_default(suspended):
    assert "suspended until 2099-12-04 00:00" in refusal(suspended)


def test_the_refusal_names_the_end_in_the_members_own_zone(suspended):
    suspended.timezone = "Europe/Berlin"
    assert "suspended until 2099-12-03 17:00" in refusal(suspended)


def test_an_unknown_zone_falls_back_to_the_sites(suspended):
    suspended.timezone = "Mars/Olympus_Mons"
    assert "2099-12-04 00:00" in suspension_message(suspended)


@pytest.mark.parametrize(
    "url",
    ["/", "/questions/", "/salon/", "/doctors/", "/notifications/", "/questions/ask/"],
)
def test_every_page_shows_a_suspended_member_the_banner(client, suspended, url):
    client.force_login(suspended)
    content = client.get(url).content.decode()
    banner = content[content.index(BANNER) :]
    assert banner.index("Your account is suspended until 2099-12-04 00:00") < banner.index("</p>")


def test_the_banner_speaks_the_members_language_and_zone(client, suspended):
    suspended.timezone = "America/New_York"
    suspended.save(update_fields=["timezone"])
    client.force_login(suspended)
    content = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert BANNER in content and "您的账号已被暂停发言，直至 2099-12-03 11:00" in content


def test_nobody_else_sees_a_banner(client, user_factory, suspended):
    assert BANNER not in client.get("/").content.decode()
    client.force_login(user_factory())
    assert BANNER not in client.get("/").content.decode()
    suspended.suspended_until = datetime(2000, 1, 1, tzinfo=UTC)  # over
    suspended.save(update_fields=["suspended_until"])
    client.force_login(suspended)
    assert BANNER not in client.get("/").content.decode()


def test_the_flag_form_is_closed_before_anything_is_typed(client, suspended, question_factory):
    question = question_factory()
    client.force_login(suspended)
    content = client.get(reverse("moderation:flag", args=["question", question.pk])).content
    assert b'data-testid="form-closed"' in content and b"<textarea" not in content


def test_a_refusal_without_a_reason_still_explains_itself(client, patient):
    client.force_login(patient)
    response = client.get(reverse("moderation:queue"))
    assert response.status_code == 403
    assert "does not have permission for this page or action" in response.content.decode()
