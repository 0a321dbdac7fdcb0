import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.e2e


def test_held_for_phone_number_redacted_live_and_logged(site, new_page):
    patient_email = site.person("patient", "Held Patient")
    moderator_email = site.person("moderator", "Moderator Qian")

    moderator = new_page()
    sign_in(moderator, site, moderator_email, PASSWORD)
    moderator.goto(site.url + "/moderation/")
    moderator.wait_for_timeout(500)  # the socket says hello

    patient = new_page()
    sign_in(patient, site, patient_email, PASSWORD)
    patient.goto(site.url + "/questions/ask/")
    patient.get_by_label("Title").fill("Who can explain my father's scan results?")
    patient.get_by_label("Details").fill(
        "Please call me on 13812345678, the report mentions a 2 cm lesion in the liver."
    )
    patient.get_by_label("Topic").select_option(label="Hepatobiliary and pancreatic cancer")
    patient.get_by_role("button", name="Post question").click()
    # Warned before posting, with the number named.
    expect(patient.get_by_role("heading", name="Personal data found")).to_be_visible()
    expect(patient.get_by_text("“13812345678” looks like a phone number")).to_be_visible()
    patient.get_by_label("I understand: send it to a moderator").check()
    patient.get_by_role("button", name="Post question").click()
    expect(patient.get_by_text("waiting for a moderator").first).to_be_visible()
    expect(patient.get_by_text("It seems to contain personal data")).to_be_visible()
    held_url = patient.url

    # The asker finds it above the list; a visitor's list (kept whole in the
    # server's cache from now on) does not show it.
    patient.goto(site.url + "/questions/")
    own = patient.locator("section.own-unpublished")
    expect(own).to_contain_text("Who can explain my father's scan results?")
    expect(own).to_contain_text("Pending review")
    visitor = new_page()
    visitor.goto(site.url + "/questions/")
    expect(visitor.get_by_role("heading", name="Questions")).to_be_visible()
    expect(visitor.get_by_text("Who can explain my father's scan results?")).to_have_count(0)
    patient.goto(held_url)

    # The moderator's open queue page hears of it without a reload.
    expect(moderator.get_by_text("New items have arrived.")).to_be_visible()
    expect(moderator.locator("#notification-bell [data-unread]")).not_to_have_text("0")
    moderator.get_by_role("link", name="Reload the queue").click()
    case = moderator.locator("article.case", has_text="Who can explain my father's scan results?")
    expect(case.locator("mark", has_text="13812345678")).to_be_visible()
    case.get_by_text("Redact before approving").click()
    case.get_by_label("Redacted text").fill(
        "Please contact me here; the report mentions a 2 cm lesion in the liver."
    )
    case.get_by_role("button", name="Redact and approve").click()
    expect(moderator.get_by_text("Redacted and approved.")).to_be_visible()

    expect(patient.locator(".toast").last).to_contain_text("was approved")
    patient.reload()
    expect(patient.get_by_text("Please contact me here")).to_be_visible()
    expect(patient.get_by_text("13812345678")).to_have_count(0)
    # Published: the visitor's cached list has moved on.
    visitor.reload()
    expect(
        visitor.get_by_role("link", name="Who can explain my father's scan results?")
    ).to_be_visible()

    moderator.goto(site.url + "/moderation/log/")
    row = moderator.locator("tr", has_text="Redacted and approved")
    expect(row).to_contain_text("Moderator Qian")
    expect(row).to_contain_text("Who can explain my father's scan results?")


def test_three_flags_hide_a_post(site, new_page):
    author_email = site.person("patient", "Flagged Author")
    author = new_page()
    sign_in(author, site, author_email, PASSWORD)
    author.goto(site.url + "/questions/ask/")
    author.get_by_label("Title").fill("This herbal tea cures stomach cancer, stop chemo")
    author.get_by_label("Details").fill(
        "My neighbour stopped chemotherapy and drinks this tea instead. Everyone should."
    )
    author.get_by_label("Topic").select_option(label="Gastric cancer")
    author.get_by_role("button", name="Post question").click()
    question_url = author.url

    for number in range(3):
        flagger_email = site.person("patient", f"Flagger {number}")
        flagger = new_page()
        sign_in(flagger, site, flagger_email, PASSWORD)
        flagger.goto(question_url)
        flagger.locator("article.question").get_by_role("link", name="Flag").click()
        flagger.get_by_label("Medical misinformation").check()
        flagger.get_by_role("button", name="Send flag").click()
        expect(flagger.get_by_text("the author is not told who flagged it")).to_be_visible()

    visitor = new_page()
    response = visitor.goto(question_url)
    assert response.status == 404
    author.reload()
    expect(author.get_by_text("hidden while a moderator looks at it")).to_be_visible()
