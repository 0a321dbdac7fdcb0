import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.e2e

ANSWERED = "奥沙利铂化疗后手脚麻木，一般要多久才能恢复？"
UNRELATED = "胃癌术后可以吃海鲜吗？"

# Written through the services, as the physician's answer would be; the
# journey is the asker's, not the physician's.
SEED = """
from accounts.models import User
from forum import services
from forum.models import Category
people = {people}
asker = User.objects.get(email=people["asker"])
doctor = User.objects.get(email=people["doctor"])
category = Category.objects.get(slug="colorectal-cancer")
question = services.question_create(
    author=asker, title={answered!r}, category=category,
    body="XELOX第四个周期以后手指脚趾一直发麻，碰到冷水更厉害，会一直这样吗？",
)
answer = services.answer_create(
    question=question, author=doctor,
    body="奥沙利铂引起的手脚麻木多数在停药后6到12个月逐渐好转，期间避免接触冷水。",
)
services.answer_accept(answer=answer, user=asker)
services.question_create(
    author=asker, title={unrelated!r}, category=category,
    body="手术后三个月了，想问问饮食上有没有需要特别注意的地方。",
)
"""


@pytest.fixture(scope="module")
def answered(site):
    """An answered question, its answer accepted, and one about something else."""
    asker = site.person("patient", "Zhou Min")
    doctor = site.person("doctor", "Dr. Gao Lin", "--verified")
    people = json.dumps({"asker": asker, "doctor": doctor})
    site.manage("shell", "-c", SEED.format(people=people, answered=ANSWERED, unrelated=UNRELATED))


@pytest.mark.parametrize("viewport", [(360, 780), (1280, 900)], ids=["phone", "desktop"])
def test_a_patient_typing_a_title_sees_the_answered_question_before_posting(
    site, answered, new_page, tmp_path, viewport
):
    patient_email = site.person("patient", "Wu Lan")

    page = new_page()
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    sign_in(page, site, patient_email, PASSWORD)
    page.get_by_label("Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.goto(site.url + "/questions/ask/")
    similar = page.locator("#similar-questions")
    expect(similar).to_be_hidden()

    title = page.get_by_label("标题")
    title.press_sequentially("奥沙利铂引起的手脚麻木多久能好", delay=40)
    expect(similar.get_by_role("heading", name="已经有人问过的相似问题")).to_be_visible()
    offered = similar.get_by_role("link", name=ANSWERED)
    expect(offered).to_be_visible()
    item = similar.locator("li").filter(has_text=ANSWERED)
    expect(item).to_contain_text("✓ 已采纳回答")
    expect(item).to_contain_text("1 条回答")
    expect(similar.get_by_role("link", name=UNRELATED)).to_have_count(0)
    expect(page.locator("#similar-questions-status")).to_have_text(
        re.compile(r"找到 \d 个相似问题")
    )
    # Right under the title field, above the details.
    box = similar.bounding_box()
    assert box["y"] > title.bounding_box()["y"]
    assert box["y"] < page.get_by_label("详情").bounding_box()["y"]
    assert box["x"] + box["width"] <= viewport[0]
    page.screenshot(path=str(tmp_path / f"similar-zh-{viewport[0]}.png"), full_page=True)

    # The question opens in a new tab; the draft stays here.
    with page.context.expect_page() as opened:
        offered.click()
    other = opened.value
    expect(other.get_by_role("heading", name=ANSWERED)).to_be_visible()
    expect(other.get_by_text("多数在停药后6到12个月逐渐好转")).to_be_visible()
    assert title.input_value() == "奥沙利铂引起的手脚麻木多久能好"

    # Clearing the title clears the list.
    title.fill("")
    expect(similar).to_be_hidden()


def test_without_javascript_the_ask_form_shows_no_list_and_still_posts(site, browser):
    email = site.person("patient", "Qin Yu")
    context = browser.new_context(
        locale="en-US", java_script_enabled=False, viewport={"width": 360, "height": 780}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(site.url + "/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password:", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.goto(site.url + "/questions/ask/")
        expect(page.locator("#similar-questions")).to_be_hidden()
        page.get_by_label("Title").fill("Oxaliplatin numbness: will it go away by itself?")
        page.get_by_label("Details").fill(
            "My feet have been numb since the sixth cycle of FOLFOX. Is this permanent?"
        )
        page.get_by_label("Topic").select_option(label="Colorectal cancer")
        page.get_by_role("button", name="Post question").click()
        expect(
            page.get_by_role("heading", name="Oxaliplatin numbness: will it go away by itself?")
        ).to_be_visible()
    finally:
        context.close()
