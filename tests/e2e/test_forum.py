import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.e2e


def test_ask_answer_reply_thank_accept_and_find(site, new_page):
    asker_email = site.person("patient", "Liang Qing")
    doctor_email = site.person("doctor", "Dr. Sun Yi", "--verified")
    other_email = site.person("patient", "Hu Jing")
    title = "How long does oxaliplatin numbness usually last?"

    asker = new_page()
    sign_in(asker, site, asker_email, PASSWORD)
    asker.get_by_role("banner").get_by_role("link", name="Questions").click()
    asker.get_by_role("link", name="Ask a question").click()
    expect(
        asker.get_by_text("call 120 or go to the nearest emergency department").first
    ).to_be_visible()
    asker.get_by_label("Title").fill(title)
    asker.get_by_label("Details").fill(
        "My fingers have been numb since the fourth XELOX cycle. Does this peripheral neuropathy go away?"
    )
    asker.get_by_label("Topic").select_option(label="Colorectal cancer")
    asker.get_by_label("Tags").fill("Chemotherapy, Side effects")
    asker.get_by_label("Current treatment").select_option(label="Chemotherapy")
    asker.get_by_label("Regimen").fill("XELOX")
    asker.get_by_role("button", name="Post question").click()
    expect(asker.get_by_role("heading", name=title)).to_be_visible()
    expect(asker.get_by_role("link", name="Side effects")).to_be_visible()
    question_url = asker.url

    doctor = new_page()
    sign_in(doctor, site, doctor_email, PASSWORD)
    expect(
        doctor.get_by_role("heading", name="Waiting for an answer in your specialties")
    ).to_be_visible()
    doctor.get_by_role("region", name="Waiting for an answer in your specialties").get_by_role(
        "link", name=title
    ).click()
    doctor.get_by_role("textbox", name="Your answer").fill(
        "Oxaliplatin neuropathy usually improves over 6 to 12 months after the last cycle. Avoid cold drinks."
    )
    doctor.get_by_role("button", name="Publish answer").click()
    answer = doctor.locator("article.answer").first
    expect(answer.get_by_text("Verified physician")).to_be_visible()
    expect(answer.get_by_text("information, not a diagnosis")).to_be_visible()

    other = new_page()
    sign_in(other, site, other_email, PASSWORD)
    other.goto(question_url)
    answer = other.locator("article.answer").first
    answer.get_by_text("Reply to this answer").click()
    answer.get_by_label("Your reply").fill(
        "The same happened to me; it got better after a few months."
    )
    answer.get_by_role("button", name="Post reply").click()
    expect(other.get_by_text("it got better after a few months")).to_be_visible()
    other.locator("article.answer").first.get_by_role("button", name="Thank").click()
    expect(other.get_by_text("You thanked this answer")).to_be_visible()
    expect(other.locator("article.answer").first.get_by_text("Thanked by 1 person")).to_be_visible()

    asker.reload()
    asker.locator("article.answer").first.get_by_role("button", name="Accept this answer").click()
    expect(asker.get_by_text("Accepted by the asker")).to_be_visible()

    visitor = new_page()
    visitor.goto(site.url + "/search/")
    visitor.get_by_label("Search for").fill("neuropathy months")
    visitor.get_by_role("button", name="Search").click()
    visitor.get_by_role("link", name=title).click()
    expect(visitor.get_by_text("Accepted by the asker")).to_be_visible()
    expect(visitor.get_by_text("Liang Qing")).to_be_visible()
    expect(visitor.get_by_role("button", name="Thank")).to_have_count(0)


def test_anonymous_question_stays_anonymous_in_the_browser(site, new_page):
    asker_email = site.person("patient", "Secret Asker")
    asker = new_page()
    sign_in(asker, site, asker_email, PASSWORD)
    asker.goto(site.url + "/questions/ask/")
    asker.get_by_label("Title").fill("A private question about my stoma bag")
    asker.get_by_label("Details").fill(
        "I would rather my colleagues did not know about this; any tips on leaks?"
    )
    asker.get_by_label("Topic").select_option(label="Living with cancer (general)")
    asker.get_by_label("Ask anonymously").check()
    asker.get_by_role("button", name="Post question").click()
    question_url = asker.url

    visitor = new_page()
    visitor.goto(question_url)
    expect(visitor.get_by_text("Anonymous patient")).to_be_visible()
    expect(visitor.get_by_text("Secret Asker")).to_have_count(0)
