import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def confirmation_link(site, address: str) -> str:
    for message in reversed(site.messages()):
        if message["To"] == address:
            body = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"https?://\S+/accounts/confirm-email/\S+/", body).group(0)
    raise AssertionError(f"no e-mail was sent to {address}")


def test_new_patient_signs_up_confirms_is_signed_in_and_reads_chinese(site, page):
    address = "new.patient@example.com"
    page.goto(site.url + "/")
    page.get_by_role("banner").get_by_role("link", name="Join").click()

    page.get_by_label("Email").fill(address)
    page.get_by_label("Display name").fill("Mei Ling")
    page.get_by_label("Password:", exact=True).fill("quiet-river-morning-42")
    page.get_by_label("Password (again)").fill("quiet-river-morning-42")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    # Signing in before confirming the address is refused.
    page.goto(site.url + "/accounts/login/")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password:", exact=True).fill("quiet-river-morning-42")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    expect(page.get_by_test_id("header-user-name")).to_have_count(0)

    # Confirming in the browser that signed up signs the new member in.
    page.goto(confirmation_link(site, address))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(f"You have confirmed {address}.")).to_be_visible()
    expect(page.get_by_test_id("header-user-name")).to_have_text("Mei Ling")

    page.get_by_label("Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("link", name="首页")).to_be_visible()
    expect(page.get_by_text("如遇紧急情况，请拨打120或前往最近的急诊科。")).to_be_visible()
    expect(page.get_by_test_id("header-user-name")).to_have_text("Mei Ling")


def test_pages_fit_a_360_pixel_phone(site, page):
    for path in ["/", "/doctors/", "/accounts/login/", "/accounts/signup/"]:
        page.goto(site.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px wide"
