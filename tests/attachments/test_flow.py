"""A patient's report, from the ask form to a physician's screen, and who may see it."""

import io
import json
import os
import uuid

import pytest
from django.urls import reverse
from PIL import Image

from attachments import imaging
from attachments.models import Attachment
from forum.models import Question
from moderation.models import AuditEntry, Case
from tests.attachments.conftest import needs_ocr, photo, plain_photo, upload
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def ask(client, category, *files, title="CEA after the fourth cycle of XELOX", **extra):
    data = {
        "title": title,
        "body": "My CEA went up after the fourth cycle. Should I worry about it?",
        "category": category.pk,
        "tags": "",
        "asker": "self",
        "attachments": list(files),
        **extra,
    }
    return client.post(reverse("forum:question-ask"), data)


@pytest.fixture
def asked(client, patient, category, django_capture_on_commit_callbacks):
    """Ask as ``patient`` with the given photos; the worker runs after the commit."""

    def make(*photos):
        client.force_login(patient)
        with django_capture_on_commit_callbacks(execute=True):
            response = ask(
                client, category, *(upload(p, f"photo{i}.jpg") for i, p in enumerate(photos))
            )
        assert response.status_code == 302, response.content.decode()[:2000]
        return Question.objects.get(author=patient)

    return make


def files_in(storage) -> list[str]:
    root = storage.path("")
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root)
        for name in names
    )


@needs_ocr
def test_a_clean_photo_is_shared_with_physicians_without_its_exif(
    asked, client, doctor, patient, user_factory, _private_storage
):
    question = asked(plain_photo())
    attachment = question.attachments.get()
    assert attachment.state == Attachment.State.READY and attachment.ocr_checked
    # Only the safe image and its thumbnail are kept: the upload itself is gone.
    assert len(files_in(_private_storage)) == 2
    client.force_login(doctor)
    response = client.get(reverse("attachments:image", args=[attachment.key]))
    assert response.status_code == 200
    assert {"private", "no-store"} <= {p.strip() for p in response["Cache-Control"].split(",")}
    served = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert served.format == "JPEG" and not served.getexif() and "icc_profile" not in served.info
    page = client.get(question.get_absolute_url()).content.decode()
    assert reverse("attachments:thumbnail", args=[attachment.key]) in page
    # A visitor and another patient get a 404, and the page tells them only a count.
    for viewer in (None, user_factory(name="Other patient")):
        client.logout()
        if viewer:
            client.force_login(viewer)
        for name in ("image", "thumbnail", "status", "cover"):
            assert (
                client.get(reverse(f"attachments:{name}", args=[attachment.key])).status_code == 404
            )
        page = client.get(question.get_absolute_url()).content.decode()
        assert str(attachment.key) not in page
        assert "The asker shared 1 report with physicians." in page


@needs_ocr
def test_a_phone_number_on_the_photo_keeps_it_with_its_author_until_covered(
    asked, client, doctor, patient, _private_storage, django_capture_on_commit_callbacks
):
    question = asked(photo())
    attachment = question.attachments.get()
    assert attachment.state == Attachment.State.NEEDS_COVER
    assert "phone" in {finding["kind"] for finding in attachment.findings}
    client.force_login(doctor)
    assert client.get(reverse("attachments:image", args=[attachment.key])).status_code == 404
    assert str(attachment.key) not in client.get(question.get_absolute_url()).content.decode()

    client.force_login(patient)
    page = client.get(question.get_absolute_url()).content.decode()
    assert reverse("attachments:cover", args=[attachment.key]) in page
    cover = client.get(reverse("attachments:cover", args=[attachment.key]))
    assert cover.status_code == 200 and "no-store" in cover["Cache-Control"]
    # Leaving the number uncovered is refused, and nothing changes.
    refused = client.post(
        reverse("attachments:cover", args=[attachment.key]), {"boxes": "[[0, 0, 5, 5]]"}
    )
    assert refused.status_code == 400 and "not covered yet" in refused.content.decode()
    assert Attachment.objects.get().state == Attachment.State.NEEDS_COVER
    boxes = [finding["box"] for finding in attachment.findings]
    before = files_in(_private_storage)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("attachments:cover", args=[attachment.key]), {"boxes": json.dumps(boxes)}
        )
    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.READY and attachment.findings == []
    # The uncovered image is deleted: new files only.
    assert not set(before) & set(files_in(_private_storage))
    client.force_login(doctor)
    served = b"".join(
        client.get(reverse("attachments:image", args=[attachment.key])).streaming_content
    )
    found = imaging.find_private(imaging.read_text(served))
    assert "phone" not in {region.kind for region in found}


@needs_ocr
def test_the_author_may_ask_a_moderator_who_approves_it(asked, client, patient, moderator, doctor):
    question = asked(photo())
    attachment = question.attachments.get()
    client.force_login(patient)
    client.post(reverse("attachments:review", args=[attachment.key]))
    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.REVIEW
    case = Case.objects.get(object_id=attachment.pk, resolved_at__isnull=True)
    client.force_login(moderator)
    queue = client.get(reverse("moderation:queue")).content.decode()
    assert reverse("attachments:thumbnail", args=[attachment.key]) in queue
    assert client.get(reverse("attachments:image", args=[attachment.key])).status_code == 200
    client.post(
        reverse("moderation:decide", args=[case.pk]),
        {"action": "approve", "version": attachment.updated_at.isoformat()},
    )
    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.READY
    assert AuditEntry.objects.filter(action="attachment_approve", object_id=attachment.pk).exists()
    client.force_login(doctor)
    assert client.get(reverse("attachments:image", args=[attachment.key])).status_code == 200


def test_without_ocr_an_image_waits_for_a_moderator_who_can_remove_it(
    asked,
    client,
    moderator,
    doctor,
    monkeypatch,
    _private_storage,
    django_capture_on_commit_callbacks,
):
    monkeypatch.setattr(imaging, "ocr_available", lambda: False)
    question = asked(plain_photo())
    attachment = question.attachments.get()
    assert attachment.state == Attachment.State.REVIEW and not attachment.ocr_checked
    client.force_login(doctor)
    assert client.get(reverse("attachments:image", args=[attachment.key])).status_code == 404
    case = Case.objects.get(object_id=attachment.pk)
    assert case.reasons == ["no_ocr"]
    client.force_login(moderator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("moderation:decide", args=[case.pk]),
            {
                "action": "reject",
                "reason": "Not a medical report",
                "version": attachment.updated_at.isoformat(),
            },
        )
    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.REMOVED
    assert files_in(_private_storage) == []
    assert AuditEntry.objects.filter(action="attachment_remove").exists()


def test_a_moderator_covers_and_it_is_audited(asked, client, moderator, monkeypatch):
    monkeypatch.setattr(imaging, "ocr_available", lambda: False)
    attachment = asked(plain_photo()).attachments.get()
    client.force_login(moderator)
    response = client.post(
        reverse("attachments:cover", args=[attachment.key]), {"boxes": "[[10, 10, 100, 50]]"}
    )
    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.READY
    assert AuditEntry.objects.filter(action="attachment_cover").exists()
    assert not Case.objects.filter(resolved_at__isnull=True).exists()


@pytest.mark.parametrize(
    "boxes",
    [
        "not json",
        "{}",
        "[[1, 2, 3]]",
        '[["a", 1, 2, 3]]',
        "[[true, 1, 2, 3]]",
        json.dumps([[0, 0, 9, 9]] * 60),
    ],
)
def test_hostile_boxes_are_refused(asked, client, moderator, monkeypatch, boxes):
    monkeypatch.setattr(imaging, "ocr_available", lambda: False)
    attachment = asked(plain_photo()).attachments.get()
    client.force_login(moderator)
    response = client.post(reverse("attachments:cover", args=[attachment.key]), {"boxes": boxes})
    assert response.status_code == 400 and "Draw them again" in response.content.decode()
    assert Attachment.objects.get().state == Attachment.State.REVIEW


def test_hostile_addresses_are_404(client, patient):
    client.force_login(patient)
    for address in (
        "/attachments/../../etc/passwd/",
        "/attachments/not-a-key/",
        f"/attachments/{uuid.uuid4()}/",
        f"/attachments/{uuid.uuid4()}/thumbnail/",
        f"/attachments/{uuid.uuid4()}/cover/",
    ):
        assert client.get(address).status_code == 404, address


def test_deleting_the_question_or_the_account_deletes_the_files(
    asked, client, patient, _private_storage, category, django_capture_on_commit_callbacks
):
    from accounts.services import account_delete
    from forum.services import post_delete

    question = asked(plain_photo())
    assert files_in(_private_storage)
    with django_capture_on_commit_callbacks(execute=True):
        post_delete(post=question, user=patient)
    assert files_in(_private_storage) == [] and not Attachment.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        ask(client, category, upload(plain_photo()), title="A second question about my CEA")
    assert files_in(_private_storage)
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=patient, password=PASSWORD)
    assert files_in(_private_storage) == [] and not Attachment.objects.exists()


def test_the_export_holds_the_patients_own_images_and_nobody_elses(
    asked, client, patient, user_factory
):
    from accounts.services import account_export

    asked(plain_photo())
    exported = account_export(user=patient)["attachments"]
    assert len(exported) == 1 and exported[0]["image"].startswith("data:image/jpeg;base64,")
    assert account_export(user=user_factory())["attachments"] == []


def test_the_asker_adds_reports_to_a_reply_and_nobody_else_can(
    asked, client, patient, user_factory, django_capture_on_commit_callbacks
):
    question = asked()
    client.force_login(patient)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("forum:reply-create", args=[question.pk]),
            {"body": "Here is the CT report.", "attachments": [upload(plain_photo())]},
        )
    assert response.status_code == 302
    reply_attachment = Attachment.objects.get()
    assert reply_attachment.reply is not None
    page = client.get(question.get_absolute_url()).content.decode()
    assert str(reply_attachment.key) in page
    client.force_login(user_factory(name="Someone else"))
    response = client.post(
        reverse("forum:reply-create", args=[question.pk]),
        {"body": "Mine too.", "attachments": [upload(plain_photo())]},
    )
    assert response.status_code == 403
    assert "Only the person who asked" in response.content.decode()
    assert Attachment.objects.count() == 1


def test_the_status_says_when_the_worker_is_done(asked, client, patient):
    attachment = asked(plain_photo()).attachments.get()
    client.force_login(patient)
    status = client.get(reverse("attachments:status", args=[attachment.key])).json()
    assert status["settled"] and str(attachment.key) in status["html"]


def test_a_question_deleted_while_the_worker_runs_leaves_no_file(
    client, patient, category, monkeypatch, _private_storage
):
    """The slow part runs outside the lock; what it made for a deleted post is thrown away."""
    from attachments import services
    from forum.services import post_delete

    client.force_login(patient)
    ask(client, category, upload(plain_photo()))  # queued, not yet run (no commit here)
    attachment = Attachment.objects.get()
    real_make_safe = imaging.make_safe

    def make_safe_while_deleted(data):
        safe = real_make_safe(data)
        post_delete(post=attachment.question, user=patient)
        return safe

    monkeypatch.setattr(imaging, "make_safe", make_safe_while_deleted)
    assert services.attachment_process(attachment_id=attachment.pk) is None
    assert not Attachment.objects.exists()


def test_a_failing_ocr_sends_the_image_to_a_moderator(client, patient, category, monkeypatch):
    from attachments import services

    def broken(data):
        raise RuntimeError("Tesseract process timeout")

    monkeypatch.setattr(imaging, "ocr_available", lambda: True)
    monkeypatch.setattr(imaging, "read_text", broken)
    client.force_login(patient)
    ask(client, category, upload(plain_photo()))
    attachment = Attachment.objects.get()
    assert services.attachment_process(attachment_id=attachment.pk) == Attachment.State.REVIEW
    assert Case.objects.filter(object_id=attachment.pk, resolved_at__isnull=True).exists()
