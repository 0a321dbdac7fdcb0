import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, ask, sign_in

pytestmark = pytest.mark.e2e


def test_a_visitor_finds_a_chinese_question_with_english_words(site, new_page, tmp_path):
    asker_email = site.person("patient", "Li Hua")
    asker = new_page()
    sign_in(asker, site, asker_email, PASSWORD)
    title = "我爸爸用奥沙利铂以后手脚麻木，正常吗？"
    ask(asker, site, title, "第四个周期以后手指一碰凉水就麻，走路也觉得脚底发麻，会不会一直这样？")

    visitor = new_page()
    visitor.goto(site.url + "/search/")
    visitor.get_by_label("Search for").fill("oxaliplatin numbness")
    visitor.get_by_role("button", name="Search").click()

    result = visitor.locator(".question-list .question-row").filter(has_text="奥沙利铂")
    expect(result).to_have_count(1)
    # Where the words matched, and which other words were searched.
    expect(result.locator("mark").first).to_be_visible()
    expect(visitor.locator(".search-expansions")).to_contain_text("奥沙利铂")
    expect(visitor.locator(".search-expansions")).to_contain_text("周围神经毒性")
    visitor.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    result.get_by_role("link").first.click()
    expect(visitor.get_by_role("heading", name=title)).to_be_visible()


def test_a_chinese_reader_sees_what_else_was_searched_in_chinese(site, new_page, tmp_path):
    asker_email = site.person("patient", "Tom Brown")
    asker = new_page()
    sign_in(asker, site, asker_email, PASSWORD)
    title = "Tingling fingers after L-OHP, will it pass?"
    ask(asker, site, title, "After the fourth cycle my fingertips tingle in the cold.")

    reader = new_page("zh-CN")
    reader.goto(site.url + "/search/?q=" + "奥沙利铂")
    expect(reader.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(reader.locator(".search-expansions")).to_contain_text("同时搜索了")
    expect(reader.locator(".search-expansions")).to_contain_text("L-OHP")
    result = reader.locator(".question-list .question-row").filter(has_text=title)
    expect(result.locator("mark")).to_have_text(["L-OHP"])
    reader.screenshot(path=str(tmp_path / "search-zh.png"), full_page=True)
