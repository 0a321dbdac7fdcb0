"""How attachments are served and shown: headers, nginx hand-off, queries, and where they never go."""

import pytest
from django.urls import reverse

from attachments.models import Attachment
from tests.attachments.conftest import processed

pytestmark = pytest.mark.django_db


def shared(question, count: int, *, state=Attachment.State.READY) -> list[Attachment]:
    return processed(question, count, state=state)


def test_files_are_private_and_never_kept_on_the_way(client, question_factory, doctor):
    question = question_factory()
    attachment = shared(question, 1)[0]
    client.force_login(doctor)
    for name in ("image", "thumbnail"):
        response = client.get(reverse(f"attachments:{name}", args=[attachment.key]))
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]


def test_in_production_nginx_sends_the_bytes_after_django_authorises(
    client, question_factory, doctor, settings
):
    settings.SHUKANG_ATTACHMENTS_ACCEL_PREFIX = "/_private/"
    question = question_factory()
    attachment = shared(question, 1)[0]
    client.force_login(doctor)
    response = client.get(reverse("attachments:image", args=[attachment.key]))
    assert response["X-Accel-Redirect"] == f"/_private/{attachment.image.name}"
    assert response.content == b"" and "no-store" in response["Cache-Control"]
    client.logout()
    response = client.get(reverse("attachments:image", args=[attachment.key]))
    assert response.status_code == 404 and "X-Accel-Redirect" not in response


@pytest.mark.parametrize("count", [1, 6])
def test_the_question_page_costs_one_query_more_whatever_the_number_of_images(
    client, question_factory, doctor, count, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bare = question_factory(answers=2)
    question = question_factory(answers=2)
    shared(question, count)
    client.force_login(doctor)
    client.get("/")
    with CaptureQueriesContext(connection) as without:
        client.get(bare.get_absolute_url())
    with django_assert_num_queries(len(without) + 1):
        page = client.get(question.get_absolute_url()).content.decode()
    assert page.count('class="attachment attachment-ready"') == count


def test_visitors_page_costs_nothing_more_and_shows_only_the_count(
    client, question_factory, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bare = question_factory()
    question = question_factory()
    rows = shared(question, 3)
    shared(question, 1, state=Attachment.State.NEEDS_COVER)
    with CaptureQueriesContext(connection) as without:
        client.get(bare.get_absolute_url())
    with django_assert_num_queries(len(without)):
        page = client.get(question.get_absolute_url()).content.decode()
    assert "The asker shared 3 reports with physicians." in page
    assert "/attachments/" not in page and str(rows[0].key) not in page


def test_images_never_reach_search_notifications_or_sockets(
    client, question_factory, doctor, django_capture_on_commit_callbacks
):
    from forum import services as forum
    from notifications.models import Notification

    question = question_factory(title="CEA rising after XELOX, what now?")
    rows = shared(question, 2)
    with django_capture_on_commit_callbacks(execute=True):
        forum.answer_create(
            question=question, author=doctor, body="A rise this small is often not meaningful."
        )
    page = client.get(reverse("forum:search"), {"q": "CEA"}).content.decode()
    assert question.get_absolute_url() in page and "/attachments/" not in page
    for notification in Notification.objects.all():
        assert "/attachments/" not in str(notification.data) + notification.url
        assert not any(str(row.key) in str(notification.data) for row in rows)


def test_a_reply_with_images_goes_out_on_the_socket_without_them(question_factory):
    from forum import live
    from forum import services as forum

    question = question_factory()
    reply = forum.reply_create(question=question, author=question.author, body="The CT report.")
    rows = processed(question, 2)
    for row in rows:
        row.reply = reply
        row.save()
    message = live._fragment(reply, "en")
    assert "/attachments/" not in message["html"]
    assert not any(str(row.key) in str(message) for row in rows)


@pytest.mark.usefixtures("kept")
def test_moderators_shared_page_follows_every_state_of_an_image(
    client, settings, question_factory, moderator, django_capture_on_commit_callbacks
):
    from attachments import services
    from tests.memberpages import both

    question = question_factory(answers=1)
    attachment = processed(question, state="needs_cover", findings=["phone"])[0]
    client.force_login(moderator)
    usual, cached = both(client, settings, question.get_absolute_url())
    assert cached == usual and "Personal data not yet covered" in cached
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_request_review(attachment=attachment, user=question.author)
    usual, cached = both(client, settings, question.get_absolute_url())
    assert cached == usual and "Waiting for a moderator" in cached
