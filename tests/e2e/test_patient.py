"""What a patient meets: a live answer they can act on, one toast per event, a clear suspension."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.e2e


def ask(page, site, title, *, about="A family member"):
    page.goto(site.url + "/questions/ask/")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Details").fill(
        "My father finished his sixth cycle of XELOX; his hands are still numb. Will it pass?"
    )
    page.get_by_label("Topic").select_option(label="Colorectal cancer")
    page.get_by_label(about, exact=True).check()
    page.get_by_role("button", name="Post question").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.url


def answer(page, url, text):
    page.goto(url)
    page.get_by_role("textbox", name="Your answer").fill(text)
    page.get_by_role("button", name="Publish answer").click()
    expect(page.get_by_text(text)).to_be_visible()


def test_the_asker_accepts_a_live_answer_without_reloading(site, new_page):
    asker_email = site.person("patient", "Live Asker")
    reader_email = site.person("patient", "Live Reader")
    doctor_email = site.person("doctor", "Dr. Live", "--verified")
    asker = new_page()
    sign_in(asker, site, asker_email, PASSWORD)
    question_url = ask(asker, site, "Will my father's numb hands recover?")
    expect(asker.get_by_text("A family member")).to_be_visible()
    heading = asker.locator("#answers-title")
    expect(heading).to_have_text("0 physician answers")

    reader = new_page()
    sign_in(reader, site, reader_email, PASSWORD)
    reader.goto(question_url)
    asker.wait_for_timeout(500)  # both sockets say hello

    doctor = new_page()
    sign_in(doctor, site, doctor_email, PASSWORD)
    text = "Numbness from oxaliplatin usually eases over six to twelve months."
    answer(doctor, question_url, text)

    # The asker's page, never reloaded, shows the answer with the asker's controls.
    live = asker.locator("article.answer", has_text=text)
    expect(live.get_by_text("Verified physician")).to_be_visible()
    expect(heading).to_have_text("1 physician answer")
    expect(asker.get_by_text("No physician has answered yet")).to_have_count(0)
    # Another member's page: thank, reply and flag, but not accept.
    reader_answer = reader.locator("article.answer", has_text=text)
    expect(reader_answer.get_by_role("button", name="Thank")).to_be_visible()
    expect(reader_answer.get_by_text("Reply to this answer")).to_be_visible()
    expect(reader_answer.get_by_role("link", name="Flag")).to_be_visible()
    expect(reader_answer.get_by_role("button", name="Accept this answer")).to_have_count(0)

    live.get_by_role("button", name="Accept this answer").click()
    expect(asker.get_by_text("You accepted this answer.")).to_be_visible()
    expect(asker.get_by_text("Accepted by the asker")).to_be_visible()


def test_one_answer_makes_one_toast(site, new_page):
    asker_email = site.person("patient", "Toast Asker")
    doctor_email = site.person("doctor", "Dr. Toast", "--verified")
    asker = new_page()
    sign_in(asker, site, asker_email, PASSWORD)
    question_url = ask(asker, site, "Is it normal to feel cold after chemotherapy?")
    asker.wait_for_timeout(500)  # both sockets say hello

    doctor = new_page()
    sign_in(doctor, site, doctor_email, PASSWORD)
    text = "Feeling cold is common with oxaliplatin: keep warm and avoid cold drinks."
    answer(doctor, question_url, text)

    expect(asker.locator("article.answer", has_text=text)).to_be_visible()
    # The notification and the question's socket both bring it; let both arrive.
    expect(asker.locator("#notification-bell [data-unread]")).to_have_text("1")
    asker.wait_for_timeout(1500)
    expect(asker.locator(".toast")).to_have_count(1)
    expect(asker.locator(".toast")).to_contain_text("Dr. Toast")


def test_a_suspended_member_sees_why_and_until_when_before_typing(site, new_page):
    email = site.person("patient", "Suspended Shen")
    # 16:00 UTC is midnight in Shanghai, the zone a member without one of their own sees.
    site.manage(
        "shell",
        "-c",
        "from datetime import UTC, datetime; from accounts.models import User; "
        f"User.objects.filter(email='{email}')"
        ".update(suspended_until=datetime(2099, 12, 3, 16, 0, tzinfo=UTC))",
    )
    page = new_page()
    sign_in(page, site, email, PASSWORD)
    banner = page.get_by_test_id("suspension-banner")
    expect(banner).to_contain_text("Your account is suspended until 2099-12-04 00:00")
    page.goto(site.url + "/questions/ask/")
    expect(banner).to_be_visible()
    expect(page.get_by_test_id("form-closed")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_count(0)
    page.goto(site.url + "/salon/")
    expect(banner).to_be_visible()
