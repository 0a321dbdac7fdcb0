"""Every file that is not a safe image is refused on the form, and nothing is stored."""

import io
import struct
import zlib

import pytest
from django.urls import reverse
from PIL import Image

from attachments.models import Attachment
from forum.models import Question
from tests.attachments.conftest import plain_photo, upload

pytestmark = pytest.mark.django_db

TITLE = "My CEA went up after the fourth cycle"
BODY = "It was 5.2 last month and 7.9 now. What should I ask my oncologist?"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png(side: int = 20_000) -> bytes:
    """A PNG whose header says side × side pixels: refused before anything is decoded."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def pdf(pages: int) -> bytes:
    buffer = io.BytesIO()
    images = [Image.new("RGB", (600, 800), (255, 255, 255)) for _ in range(pages)]
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


CASES = {
    "renamed exe": (b"MZ\x90\x00\x03" + b"\x00" * 2000, "report.jpg", "not an image"),
    "html": (
        b"<!doctype html><html><script>alert(1)</script></html>",
        "report.png",
        "not an image",
    ),
    "svg": (svg(), "report.svg", "not an image"),
    "polyglot": (plain_photo() + b"<html><script>alert(1)</script></html>", "report.jpg", ""),
    "truncated": (plain_photo()[:4000], "report.jpg", ""),
    "bomb": (huge_png(), "scan.png", ""),
    "eleven megabytes": (b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024), "big.jpg", "10 MB"),
    "empty": (b"", "empty.jpg", "empty"),
    "ten page pdf": (pdf(10), "results.pdf", ""),
}


def post(client, category, files):
    return client.post(
        reverse("forum:question-ask"),
        {
            "title": TITLE,
            "body": BODY,
            "category": category.pk,
            "tags": "",
            "asker": "self",
            "attachments": files,
        },
    )


def assert_refused(response, storage, *, words: str = ""):
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist' in page and "field-attachments" in page
    if words:
        assert words in page
    # What the patient typed is still there.
    assert TITLE in page and BODY in page
    assert not Question.objects.exists() and not Attachment.objects.exists()
    assert not _any_file(storage)


def _any_file(storage) -> bool:
    import os

    root = storage.path("")
    return any(names for _folder, _dirs, names in os.walk(root)) if os.path.exists(root) else False


@pytest.mark.parametrize("case", CASES)
def test_a_file_that_is_not_a_safe_image_is_refused(
    client, patient, category, _private_storage, case
):
    data, name, words = CASES[case]
    client.force_login(patient)
    response = post(client, category, [upload(data, name)])
    assert_refused(response, _private_storage, words=words)
    assert name in response.content.decode()  # the message names the file


def test_a_seventh_image_is_refused(client, patient, category, _private_storage):
    client.force_login(patient)
    response = post(client, category, [upload(plain_photo(), f"p{i}.jpg") for i in range(7)])
    assert_refused(response, _private_storage, words="at most 6")


def test_a_pdf_counts_a_page_each(client, patient, category, _private_storage):
    client.force_login(patient)
    files = [upload(plain_photo(), f"p{i}.jpg") for i in range(4)] + [
        upload(pdf(3), "results.pdf", "application/pdf")
    ]
    assert_refused(post(client, category, files), _private_storage, words="at most 6")


def test_a_two_page_pdf_becomes_two_images(
    client, patient, category, django_capture_on_commit_callbacks
):
    client.force_login(patient)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, category, [upload(pdf(2), "results.pdf", "application/pdf")])
    assert response.status_code == 302
    assert Attachment.objects.count() == 2


def test_good_photos_wait_for_the_rest_of_the_form(client, patient, category, _private_storage):
    """Photos beside a refused title: the form says to choose them again; nothing stored."""
    client.force_login(patient)
    response = client.post(
        reverse("forum:question-ask"),
        {
            "title": "short",
            "body": BODY,
            "category": category.pk,
            "attachments": [upload(plain_photo())],
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Choose them again" in page
    assert not Attachment.objects.exists() and not _any_file(_private_storage)
