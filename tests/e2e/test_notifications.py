import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.e2e


def ask(page, site, title):
    page.goto(site.url + "/questions/ask/")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Details").fill(
        "Since the last cycle I feel tired all day; is that expected, and for how long?"
    )
    page.get_by_label("Topic").select_option(label="Colorectal cancer")
    page.get_by_role("button", name="Post question").click()
    return page.url


def answer(page, url, text):
    page.goto(url)
    page.get_by_role("textbox", name="Your answer").fill(text)
    page.get_by_role("button", name="Publish answer").click()
    expect(page.get_by_text(text)).to_be_visible()


def test_bell_and_toast_arrive_live_and_nothing_is_lost_offline(site, new_page):
    patient_email = site.person("patient", "Bell Patient")
    doctor_email = site.person("doctor", "Dr. Bell", "--verified")

    patient = new_page()
    sign_in(patient, site, patient_email, PASSWORD)
    question_url = ask(patient, site, "Is fatigue after every cycle expected?")
    patient.goto(site.url + "/")
    bell = patient.locator("#notification-bell [data-unread]")
    expect(bell).to_have_text("0")
    patient.wait_for_timeout(500)  # the socket says hello

    doctor = new_page()
    sign_in(doctor, site, doctor_email, PASSWORD)
    answer(
        doctor,
        question_url,
        "Fatigue is the most common side effect; it peaks a few days after each cycle.",
    )

    expect(bell).to_have_text("1")
    expect(patient.locator(".toast")).to_contain_text("Dr. Bell answered")

    # The patient loses the connection; another answer arrives meanwhile.
    patient.context.set_offline(True)
    patient.evaluate("window.dispatchEvent(new Event('offline'))")
    answer(doctor, question_url, "Gentle walks every day help more than rest alone, surprisingly.")
    patient.wait_for_timeout(300)
    expect(bell).to_have_text("1")

    patient.context.set_offline(False)
    patient.evaluate("window.dispatchEvent(new Event('online'))")
    expect(bell).to_have_text("2")
    expect(patient.locator(".toast").last).to_contain_text("Dr. Bell answered")

    patient.locator("#notification-bell").click()
    expect(
        patient.get_by_role(
            "link", name="Dr. Bell answered “Is fatigue after every cycle expected?”."
        )
    ).to_have_count(2)


def test_new_answers_appear_on_an_open_question_page(site, new_page):
    patient_email = site.person("patient", "Page Reader")
    doctor_email = site.person("doctor", "Dr. Page", "--verified")
    asker = new_page()
    sign_in(asker, site, patient_email, PASSWORD)
    question_url = ask(asker, site, "Can I exercise during chemotherapy?")

    visitor = new_page()
    visitor.goto(question_url)
    expect(visitor.get_by_text("No physician has answered yet")).to_be_visible()
    visitor.wait_for_timeout(500)

    doctor = new_page()
    sign_in(doctor, site, doctor_email, PASSWORD)
    answer(
        doctor,
        question_url,
        "Yes: light exercise such as walking is safe for most people and helps.",
    )

    expect(visitor.get_by_text("light exercise such as walking")).to_be_visible()
    expect(visitor.locator("article.answer").get_by_text("Verified physician")).to_be_visible()
    expect(visitor.get_by_text("No physician has answered yet")).to_have_count(0)
