"""What a patient meets: a clear suspension."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.e2e


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
