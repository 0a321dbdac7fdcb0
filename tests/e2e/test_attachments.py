import io
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from attachments.imaging import find_private, read_text
from tests.attachments.conftest import needs_ocr, photo
from tests.e2e.conftest import PASSWORD, ask, sign_in

pytestmark = [pytest.mark.e2e, needs_ocr]

# For a person to look at (/tmp/shots), never in the repository.
SHOTS = Path(tempfile.gettempdir()) / "shots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


def ask_with_photo(page, site, title: str, details: str, path: Path) -> str:
    return ask(page, site, title, details, photos=[path])


def expect_loaded(page, image) -> None:
    """Wait until an image has arrived and decoded (thumbnails load lazily)."""
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def screenshots(page, name: str) -> None:
    """The page at a phone's width and a desktop's, whole, then back to the phone."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)


def test_a_report_photo_reaches_physicians_only_once_covered(site, new_page, tmp_path):
    asker_email = site.person("patient", "Sun Yue")
    doctor_email = site.person("doctor", "Dr. Lin Qiao", "--verified")
    other_email = site.person("patient", "Gao Fei")
    title = "Is a CEA of 5.2 three months after surgery a bad sign?"
    report = tmp_path / "report.jpg"
    report.write_bytes(photo())

    asker = new_page()
    sign_in(asker, site, asker_email, PASSWORD)
    question_url = ask_with_photo(
        asker,
        site,
        title,
        "My father had his colon operated on in spring. His latest blood test is attached.",
        report,
    )
    card = asker.locator("li.attachment")
    expect(card.get_by_text("Being made safe…")).to_be_visible()
    # The notice arrives in place, by the polling script, without a reload.
    asker.evaluate("window.stillTheSamePage = true")
    notice = asker.get_by_text(
        "We found personal data on this image. Only you can see it until you cover it."
    )
    expect(notice).to_be_visible()
    assert asker.evaluate("window.stillTheSamePage") is True
    screenshots(asker, "asker-needs-cover")
    key = card.get_attribute("id").removeprefix("attachment-")
    image_url = f"{site.url}/attachments/{key}/"
    urls = [image_url, f"{image_url}thumbnail/", f"{image_url}cover/"]

    asker.get_by_role("link", name="Cover personal data").click()
    expect(asker.get_by_role("heading", name="Cover personal data")).to_be_visible()
    expect(asker.locator(".cover-box").first).to_be_visible()
    screenshots(asker, "cover-tool")
    asker.get_by_role("button", name="Cover and share with physicians").click()
    expect(asker.get_by_role("heading", name=title)).to_be_visible()
    assert asker.url.split("#")[0] == question_url
    expect(asker.locator("li.attachment").get_by_text("Shared with physicians")).to_be_visible()
    expect_loaded(asker, asker.get_by_role("img", name="Shared report image"))
    screenshots(asker, "asker-question")

    # A verified physician sees the thumbnail and opens the covered image.
    doctor = new_page()
    sign_in(doctor, site, doctor_email, PASSWORD)
    doctor.goto(question_url)
    expect_loaded(doctor, doctor.get_by_role("img", name="Shared report image"))
    response = doctor.request.get(image_url)
    assert response.status == 200
    cache_control = response.headers["cache-control"]
    assert "private" in cache_control and "no-store" in cache_control
    data = response.body()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert not image.getexif()
    assert not [r for r in find_private(read_text(data)) if r.kind == "phone"]

    # A visitor and another patient: nothing to open, only the count.
    visitor = new_page()
    other = new_page()
    sign_in(other, site, other_email, PASSWORD)
    for reader in (visitor, other):
        for url in urls:
            assert reader.request.get(url).status == 404, url
        reader.goto(question_url)
        expect(reader.get_by_text("The asker shared 1 report with physicians.")).to_be_visible()
        assert "/attachments/" not in reader.content()

    # Search knows nothing of what the photo shows.
    for words in ("13812345678", "检验报告单"):
        visitor.goto(f"{site.url}/search/?q={quote(words)}")
        expect(visitor.locator(".question-row").filter(has_text=title)).to_have_count(0)
    visitor.goto(f"{site.url}/search/?q={quote('CEA surgery')}")
    expect(visitor.locator(".question-row").filter(has_text=title)).to_have_count(1)
    assert "/attachments/" not in visitor.content()


def drag_box(page, stage, image_size: tuple[int, int], box: tuple[int, int, int, int]) -> None:
    """Draw a cover box with the mouse; ``box`` is left, top, right, bottom in image pixels."""
    stage.scroll_into_view_if_needed()
    shown = stage.locator("img").bounding_box()
    scale_x, scale_y = shown["width"] / image_size[0], shown["height"] / image_size[1]
    left, top, right, bottom = box
    page.mouse.move(shown["x"] + left * scale_x, shown["y"] + top * scale_y)
    page.mouse.down()
    page.mouse.move(shown["x"] + right * scale_x, shown["y"] + bottom * scale_y, steps=8)
    page.mouse.up()


def test_a_moderator_covers_a_held_photo_and_the_log_says_so(site, new_page, tmp_path):
    asker_email = site.person("patient", "Zhou Min")
    moderator_email = site.person("moderator", "Moderator Han")
    doctor_email = site.person("doctor", "Dr. Xu Ping", "--verified")
    title = "Should a CEA of 5.2 change my mother's follow-up plan?"
    report = tmp_path / "report.jpg"
    report.write_bytes(photo())

    # The asker would rather a moderator looked than cover it themselves.
    asker = new_page()
    sign_in(asker, site, asker_email, PASSWORD)
    question_url = ask_with_photo(
        asker, site, title, "Her blood test from last week is attached.", report
    )
    card = asker.locator("li.attachment")
    expect(card.get_by_text("We found personal data on this image.", exact=False)).to_be_visible()
    key = card.get_attribute("id").removeprefix("attachment-")
    image_url = f"{site.url}/attachments/{key}/"
    card.get_by_role("link", name="Cover personal data").click()
    asker.get_by_role("button", name="Ask a moderator to look instead").click()
    expect(asker.get_by_role("heading", name=title)).to_be_visible()
    expect(card.get_by_text("Waiting for a moderator", exact=True)).to_be_visible()
    # The worker's "cover your photo" notification (pushed from another process,
    # so counted here after the page load rather than live).
    bell = asker.locator("#notification-bell [data-unread]")
    expect(bell).to_have_text("1")

    # The moderator works in Chinese: the case, its thumbnail, then the cover tool.
    moderator = new_page()
    sign_in(moderator, site, moderator_email, PASSWORD)
    # The language cookie the site's switcher sets (no race with its script on a busy machine).
    moderator.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": site.url}]
    )
    moderator.goto(site.url + "/moderation/")
    expect(moderator.locator("html")).to_have_attribute("lang", "zh-hans")
    case = moderator.locator("article.case", has_text=title)
    expect(case).to_have_count(1)
    expect_loaded(moderator, case.get_by_role("img", name="等待审核的图片"))
    expect(case).to_contain_text("文字识别发现 1 处个人信息。")
    case.scroll_into_view_if_needed()
    screenshots(moderator, "mod-queue")
    case.screenshot(path=str(SHOTS / "mod-queue-card-phone.png"))

    case.get_by_role("link", name="遮盖部分内容后通过").click()
    expect(moderator.get_by_role("heading", name="遮盖个人信息")).to_be_visible()
    stage = moderator.locator(".cover-stage")
    expect_loaded(moderator, stage.get_by_role("img", name="报告图片"))
    expect(stage.locator(".cover-box")).to_have_count(1)  # what OCR found, placed already
    drag_box(moderator, stage, (1400, 1000), (60, 70, 440, 175))  # over "检验报告单"
    expect(stage.locator(".cover-box")).to_have_count(2)
    boxes = moderator.evaluate("JSON.parse(document.getElementById('cover-boxes').value)")
    assert len(boxes) == 2 and any(b[0] < 100 and b[1] < 100 for b in boxes), boxes
    screenshots(moderator, "mod-cover")
    moderator.get_by_role("button", name="遮盖并通过").click()
    expect(moderator.get_by_role("heading", name=title)).to_be_visible()
    assert moderator.url.split("#")[0] == question_url

    # The log says who covered what; the queue has moved on.
    moderator.goto(site.url + "/moderation/log/")
    row = moderator.locator("tr", has_text="图片已遮盖并分享")
    expect(row).to_contain_text("Moderator Han")
    expect(row).to_contain_text(title)
    screenshots(moderator, "mod-log")
    moderator.goto(site.url + "/moderation/")
    expect(moderator.get_by_role("heading", name="审核队列")).to_be_visible()
    expect(moderator.locator("article.case", has_text=title)).to_have_count(0)

    # A physician can open it now, and the asker has been told.
    doctor = new_page()
    sign_in(doctor, site, doctor_email, PASSWORD)
    response = doctor.request.get(image_url)
    assert response.status == 200
    with Image.open(io.BytesIO(response.body())) as image:  # the moderator's box, burnt in
        assert image.convert("L").crop((100, 100, 400, 150)).getextrema()[1] < 40
    asker.reload()
    expect(bell).to_have_text("2")
    asker.goto(site.url + "/notifications/")
    expect(asker.get_by_text("A moderator shared your photo", exact=False)).to_be_visible()
