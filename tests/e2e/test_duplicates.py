import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, ask, sign_in

pytestmark = pytest.mark.e2e


def test_a_doctor_links_a_duplicate_and_the_asker_follows_it(site, new_page, tmp_path):
    first_email = site.person("patient", "Zhou Min")
    asker_email = site.person("patient", "Wu Lan")
    doctor_email = site.person("doctor", "Dr. Qian Hao", "--verified")
    original_title = "Does the numbness from oxaliplatin ever go away?"
    title = "My fingers tingle after XELOX, will it pass?"

    first = new_page()
    sign_in(first, site, first_email, PASSWORD)
    original_url = ask(
        first,
        site,
        original_title,
        "My fingers have been numb since the fourth XELOX cycle. Does this go away?",
    )
    doctor = new_page()
    sign_in(doctor, site, doctor_email, PASSWORD)
    doctor.goto(original_url)
    doctor.get_by_role("textbox", name="Your answer").fill(
        "Oxaliplatin neuropathy usually improves over 6 to 12 months after the last cycle."
    )
    doctor.get_by_role("button", name="Publish answer").click()
    expect(doctor.get_by_text("usually improves over 6 to 12 months")).to_be_visible()

    asker = new_page()
    sign_in(asker, site, asker_email, PASSWORD)
    question_url = ask(
        asker,
        site,
        title,
        "After the third XELOX cycle my fingertips tingle in the cold. Is this normal?",
    )
    bell = asker.locator("#notification-bell [data-unread]")
    expect(bell).to_have_text("0")

    # The physician links it through the form on the question page; a wrong
    # address is refused first and changes nothing.
    doctor.goto(question_url)
    box = doctor.locator("details.duplicate-box")
    box.locator("summary").click()
    box.get_by_label("The answered question").fill("https://elsewhere.example/questions/1/")
    box.get_by_role("button", name="Mark as duplicate").click()
    box = doctor.locator("details.duplicate-box")
    expect(box.get_by_text("Paste the address of a question on this site")).to_be_visible()
    box.get_by_label("The answered question").fill(original_url)
    box.get_by_role("button", name="Mark as duplicate").click()
    expect(doctor.get_by_text("The asker has been told.")).to_be_visible()
    notice = doctor.locator("aside.notice-duplicate")
    expect(notice.get_by_role("link", name=original_title)).to_be_visible()
    expect(notice.get_by_role("button", name="Undo: not a duplicate")).to_be_visible()

    # The asker hears of it live, opens the notification, reads the notice.
    expect(bell).to_have_text("1")
    asker.locator("#notification-bell").click()
    asker.get_by_role("link", name=f"Dr. Qian Hao found an answer to “{title}”").click()
    assert asker.url.split("#")[0] == question_url
    notice = asker.locator("aside.notice-duplicate")
    expect(notice.get_by_text("This question has been answered before:")).to_be_visible()
    expect(notice.get_by_text("Linked by Dr. Qian Hao")).to_be_visible()
    expect(asker.get_by_role("button", name="Undo: not a duplicate")).to_have_count(0)

    # In Chinese, as most patients read it.
    asker.get_by_label("Language").select_option("zh-hans")
    expect(asker.locator("html")).to_have_attribute("lang", "zh-hans")
    notice = asker.locator("aside.notice-duplicate")
    expect(notice.get_by_text("这个问题此前已有解答：")).to_be_visible()
    expect(notice.get_by_text("由 Dr. Qian Hao 关联")).to_be_visible()
    asker.screenshot(path=str(tmp_path / "duplicate-notice-zh.png"))

    notice.get_by_role("link", name=original_title).click()
    expect(asker.get_by_role("heading", name=original_title)).to_be_visible()
    assert asker.url.split("#")[0] == original_url
    expect(asker.get_by_text("usually improves over 6 to 12 months")).to_be_visible()
    expect(asker.get_by_text("有 1 个类似问题指向这里。")).to_be_visible()
