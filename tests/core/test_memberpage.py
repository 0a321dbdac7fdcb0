"""Members' lists and home page from one shared page: the same bytes as the page rendered for them.

For every role each page with the member cache on is compared with the page
rendered the usual way (``SHUKANG_MEMBER_PAGE_CACHE`` off), byte for byte
once the CSRF tokens (different on every render) are set aside.
"""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone

from accounts.models import User
from forum.models import PostState, Question, Tag
from notifications.services import notify
from tests.conftest import PASSWORD
from tests.memberpages import both

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kept")]
PAGES = ["/", "/questions/", "/questions/?status=unanswered&page=1", "category", "tag"]


def _shared() -> bool:
    return any(":member:" in key for key in caches["pages"]._cache)


@pytest.fixture
def forum(question_factory, category):
    questions = [question_factory(answers=index % 2) for index in range(3)]
    tag = Tag.objects.create(name="fatigue", slug="fatigue")
    questions[0].tags.add(tag)
    return {"category": category.get_absolute_url(), "tag": tag.get_absolute_url()}


@pytest.fixture
def roles(user_factory, doctor_factory, moderator, question_factory):
    pending = user_factory(name="Pending Asker")
    held = question_factory(author=pending, title="My question waiting for review")
    Question.objects.filter(pk=held.pk).update(state=PostState.PENDING)
    suspended = user_factory(name="Suspended Member")
    suspended.suspended_until = timezone.now() + timedelta(days=2)
    suspended.save()
    staff = user_factory(name="Staff Patient")
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    return {
        "visitor": None,
        "member": user_factory(name="Plain Member"),
        "pending": pending,
        "suspended": suspended,
        "staff": staff,
        "physician": doctor_factory(name="Dr. Other"),
        "unverified": doctor_factory(name="Dr. Applying", verified=False),
        "moderator": moderator,
    }


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["visitor", "member", "pending", "suspended", "staff",
                                  "physician", "unverified", "moderator"])  # fmt: skip
def test_every_roles_page_is_the_same_with_the_member_cache(
    client, settings, forum, roles, role, page
):
    url = forum.get(page, page)
    if roles[role] is not None:
        client.force_login(roles[role])
    usual, cached = both(client, settings, url)
    assert cached == usual
    # Plain members, and only they, were served from the shared page; physicians
    # from theirs on the home page.
    assert _shared() == (role == "member" or role == "physician" and page == "/")
    # A question only its asker (and moderators) may see stays theirs.
    shown = "My question waiting for review" in cached
    assert shown == (role == "pending" or role == "moderator" and page != "tag")


@pytest.mark.parametrize("page", PAGES[:2])
def test_each_member_gets_their_own_name_bell_and_token(
    client, settings, forum, user_factory, page
):
    first = user_factory(name="<b>Li</b> & Wang")
    second = user_factory(name="Chen Ming")
    notify(recipients=[second], verb="answer", url="/questions/", data={})
    notify(recipients=[second], verb="answer", url="/questions/", data={})
    client.force_login(first)
    first_page = client.get(page).content.decode()
    client.force_login(second)
    usual, cached = both(client, settings, page)
    assert cached == usual
    assert "&lt;b&gt;Li&lt;/b&gt; &amp; Wang" in first_page and "Chen Ming" not in first_page
    assert "Chen Ming" in cached and "Li</b>" not in cached and "&lt;b&gt;Li" not in cached
    assert 'class="bell-count is-zero" data-unread>0<' in first_page
    last = second.notifications.order_by("-pk").first().pk
    assert 'class="bell-count" data-unread>2<' in cached and f'data-last-id="{last}"' in cached
    token = client.cookies["csrftoken"].value
    assert "csrfmiddlewaretoken" in cached
    assert client.get(page).content.decode().count(token) == 0  # masked, never the cookie itself


@pytest.mark.parametrize("page", PAGES[:2])
@pytest.mark.parametrize("questions", [2, 25])
def test_a_members_page_costs_one_query_however_many_questions(
    client, question_factory, user_factory, page, questions, django_assert_num_queries
):
    for _ in range(questions):
        question_factory(answers=1)
    client.force_login(user_factory())
    client.get(page)  # the first member fills the shared page
    client.force_login(user_factory())
    # The session's user, with the bell and whether they have a question others cannot see.
    with django_assert_num_queries(1):
        response = client.get(page)
    assert response.status_code == 200 and b"question-row" in response.content


def test_a_new_question_reaches_members_after_its_commit(
    client, question_factory, user_factory, django_capture_on_commit_callbacks
):
    client.force_login(user_factory())
    for page in PAGES[:2]:
        client.get(page)
    with django_capture_on_commit_callbacks(execute=True):
        question_factory(title="What can I eat after a colectomy?")
    for page in PAGES[:2]:
        assert "What can I eat after a colectomy?" in client.get(page).content.decode()


def test_a_members_own_held_question_shows_at_once(
    client, settings, user_factory, category, django_capture_on_commit_callbacks
):
    settings.SHUKANG_HOLD_FIRST_POSTS = 1  # a first question waits for a moderator
    member = user_factory()
    client.force_login(member)
    for page in PAGES[:2]:
        client.get(page)
    with django_capture_on_commit_callbacks(execute=True):  # as the request's commit would
        client.post(
            "/questions/ask/",
            {
                "title": "Is it normal to feel numb fingers?",
                "body": "After oxaliplatin, cycle 3, my fingers tingle.",
                "asker": "self",
                "category": category.pk,
            },
        )
    assert Question.objects.get(author=member).state == PostState.PENDING
    assert "Is it normal to feel numb fingers?" in client.get("/questions/").content.decode()
    assert "Is it normal to feel numb fingers?" in client.get("/").content.decode()


def test_a_waiting_message_is_shown_to_the_member_who_has_it(client, user_factory):
    member = user_factory(email="returning@example.com")
    client.force_login(user_factory())
    client.get("/")  # the shared page exists
    client.logout()
    response = client.post(
        "/accounts/login/", {"login": "returning@example.com", "password": PASSWORD}, follow=True
    )
    assert response.context["user"] == member
    assert "Successfully signed in as" in response.content.decode()
    assert "Successfully signed in as" not in client.get("/").content.decode()


def test_an_address_with_other_parameters_is_rendered_for_the_member(client, user_factory):
    client.force_login(user_factory())
    response = client.get("/questions/?utm_source=wechat")
    assert response.status_code == 200
    assert not _shared()


def test_a_member_made_staff_gets_their_menu(
    client, user_factory, django_capture_on_commit_callbacks
):
    member = user_factory()
    client.force_login(member)
    assert "Administration" not in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        member.is_staff = True
        member.save()
    assert "Administration" in client.get("/").content.decode()
