"""The duty roster's journey (issue 14's "Done when"), in real browsers.

A moderator puts a physician on duty for Colorectal cancer today; a patient
asks there and is told when to expect an answer; the physician's bell rings
live, they claim the question, a colleague sees the claim, they answer, and
the department dashboard shows the answer time.

It runs on a server of its own: today's roster would route every later
journey's colorectal question to this physician, and the dashboard's figures
are checked against what this journey alone did.
"""

import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    PASSWORD,
    _database_url,
    _drop_database,
    ask,
    sign_in,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.e2e

# For a person to look at (/tmp/shots), never in the repository.
SHOTS = Path(tempfile.gettempdir()) / "shots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def duty_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("duty-site")
    database_url = _database_url(tmp)
    server, processes = start_server(tmp, database_url=database_url)
    yield server
    stop_server(processes)
    _drop_database(database_url)


def screenshots(page, name: str) -> None:
    """The whole page at a phone's width and a desktop's, then back to the phone."""
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    print(f"screenshots: {SHOTS / name}-phone.png, {SHOTS / name}-desktop.png")


def sideways(page) -> int:
    """How far the whole page scrolls sideways at the phone's width (0: not at all)."""
    page.set_viewport_size(PHONE)
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def after_midnight_if_close() -> None:
    """The journey needs one duty day: never start it a minute before midnight in Shanghai."""
    now = datetime.now(SHANGHAI)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), SHANGHAI)
    if midnight - now < timedelta(minutes=2):
        time.sleep((midnight - now).total_seconds() + 1)


def open_menu_link(page, name: str) -> None:
    page.get_by_test_id("header-user-name").click()
    page.get_by_role("link", name=name).click()


def day_label(day: date) -> str:
    """``Monday, January 6``: how the roster's select labels name a day (en)."""
    return f"{day:%A}, {day:%B} {day.day}"


def expect_promise_by(text: str, published: datetime) -> None:
    """The promised time is the 48-hour target after publication, Shanghai time."""
    found = re.search(r"by (\d{4}-\d{2}-\d{2} \d{2}:\d{2})", text)
    assert found, text
    promised = datetime.strptime(found[1], "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    expected = published.astimezone(SHANGHAI) + timedelta(hours=48)
    assert abs(promised - expected) <= timedelta(minutes=2), (promised, expected)


def mail_to(site, address: str, timeout: float = 15) -> list:
    deadline = time.monotonic() + timeout
    while True:
        found = [message for message in site.messages() if address in message["To"]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_question_reaches_the_physician_on_duty_who_claims_and_answers_it(duty_site, new_page):
    site = duty_site
    people = [
        ("moderator", "Moderator Zhou"),
        ("doctor", "Dr. Chen Ming", "--verified"),
        ("doctor", "Dr. Wang Fang", "--verified"),
        ("patient", "Li Na"),
    ]
    with ThreadPoolExecutor(len(people)) as pool:  # each is a manage.py process
        moderator_email, on_duty_email, colleague_email, patient_email = pool.map(
            lambda person: site.person(*person), people
        )
    # Pages that scroll sideways on a phone, as a whole (not in their own frames).
    too_wide = {}
    title = "Is bloating normal two weeks after a colectomy?"
    answer_text = "Some bloating is common for a few weeks; eat small meals and walk after them."

    # Patients and visitors: the roster and the dashboard do not exist for them.
    patient = new_page()
    for path in ("/roster/", "/dashboard/"):
        assert patient.goto(site.url + path).status == 404, path
    sign_in(patient, site, patient_email, PASSWORD)
    for path in ("/roster/", "/dashboard/"):
        assert patient.goto(site.url + path).status == 404, path
    expect(patient.get_by_role("link", name="Duty roster")).to_have_count(0)

    # The moderator puts Dr. Chen on duty for Colorectal cancer today.
    after_midnight_if_close()
    moderator = new_page()
    sign_in(moderator, site, moderator_email, PASSWORD)
    open_menu_link(moderator, "Duty roster")
    expect(moderator.get_by_role("heading", name="Duty roster")).to_be_visible()
    today = date.fromisoformat(
        moderator.locator("th[aria-current=date] time").get_attribute("datetime")
    )
    assert today == datetime.now(SHANGHAI).date()  # the department's day, not the browser's
    cell = moderator.get_by_label(f"Colorectal cancer, {day_label(today)}", exact=True)
    expect(cell.locator("option:checked")).to_have_text("Nobody")
    cell.select_option(label="Dr. Chen Ming")
    moderator.get_by_role("button", name="Save the week").click()
    expect(moderator.get_by_text("Roster saved.")).to_be_visible()
    cell = moderator.get_by_label(f"Colorectal cancer, {day_label(today)}", exact=True)
    expect(cell.locator("option:checked")).to_have_text("Dr. Chen Ming")
    too_wide["roster, as a moderator"] = sideways(moderator)
    screenshots(moderator, "roster-moderator")

    # Dr. Chen waits on the home page; nothing is waiting yet.
    doctor = new_page()
    sign_in(doctor, site, on_duty_email, PASSWORD)
    bell = doctor.locator("#notification-bell [data-unread]")
    expect(bell).to_have_text("0")
    expect(
        doctor.get_by_role("heading", name="On duty today: questions waiting for you")
    ).to_have_count(0)
    doctor.evaluate("window.stillTheSamePage = true")
    doctor.wait_for_timeout(500)  # the socket says hello

    # The patient asks in Colorectal cancer and is told when to expect an answer.
    asked_at = datetime.now(SHANGHAI)
    question_url = ask(
        patient,
        site,
        title,
        "My father had a right hemicolectomy two weeks ago and his belly is often bloated.",
    )
    # The confirmation opens on the question, whose box tells the promise once.
    expect(patient.locator(".message", has_text="Your question is published")).to_be_visible()
    expect(patient.get_by_text("aim to answer within 48 hours")).to_have_count(1)
    promise = patient.locator(".duty-expect")
    expect(promise).to_contain_text("The department's physicians aim to answer within 48 hours")
    expect(promise).to_contain_text("not an emergency service")
    expect_promise_by(promise.inner_text(), asked_at)
    # The asker is not shown the physicians' panel.
    expect(patient.get_by_role("button", name="I'm answering this")).to_have_count(0)

    # Dr. Chen's bell rings without a reload; the question tops their home page.
    expect(bell).to_have_text("1")
    expect(doctor.locator(".toast")).to_contain_text(
        f"New question for you on duty in Colorectal cancer: “{title}”."
    )
    assert doctor.evaluate("window.stillTheSamePage") is True
    doctor.reload()
    duty_list = doctor.get_by_role("region", name="On duty today: questions waiting for you")
    expect(duty_list.get_by_role("link", name=title)).to_be_visible()
    expect(duty_list).to_contain_text("Colorectal cancer · waiting")
    # On duty for it, e-mail too (sent by the worker).
    assert any(
        title in message.get_body().get_content() for message in mail_to(site, on_duty_email)
    )

    # Dr. Chen claims it.
    duty_list.get_by_role("link", name=title).click()
    expect(doctor.get_by_role("heading", name=title)).to_be_visible()
    panel = doctor.locator("aside.duty-panel")
    expect(panel).to_contain_text("of a 48-hour target")
    panel.get_by_role("button", name="I'm answering this").click()
    expect(
        doctor.get_by_text("Other physicians see that you are answering this question.")
    ).to_be_visible()
    panel = doctor.locator("aside.duty-panel")
    expect(panel.get_by_text("You are answering this question.")).to_be_visible()
    expect(panel.get_by_role("button", name="Let another physician answer")).to_be_visible()

    # A colleague sees the claim and is offered no claim of their own.
    colleague = new_page()
    sign_in(colleague, site, colleague_email, PASSWORD)
    colleague.goto(question_url)
    colleague_panel = colleague.locator("aside.duty-panel")
    expect(colleague_panel.get_by_text("Dr. Chen Ming is answering this question.")).to_be_visible()
    expect(colleague_panel.get_by_role("button", name="I'm answering this")).to_have_count(0)

    # Dr. Chen answers; the clock stops.
    doctor.get_by_role("textbox", name="Your answer").fill(answer_text)
    doctor.get_by_role("button", name="Publish answer").click()
    expect(doctor.get_by_text(answer_text)).to_be_visible()
    doctor.reload()
    expect(doctor.locator("aside.duty-panel")).to_contain_text("First answered by a physician on")
    expect(
        doctor.locator("aside.duty-panel").get_by_text("You are answering this question.")
    ).to_have_count(0)
    colleague.reload()
    expect(colleague.get_by_text("Dr. Chen Ming is answering this question.")).to_have_count(0)
    patient.reload()
    expect(patient.locator(".duty-expect")).to_have_count(0)  # answered: no promise to keep

    # Home: nothing waits any more.
    doctor.goto(site.url + "/")
    expect(
        doctor.get_by_role("heading", name="On duty today: questions waiting for you")
    ).to_have_count(0)

    # The physician reads the roster (read only) and the dashboard.
    open_menu_link(doctor, "Duty roster")
    expect(doctor.get_by_role("heading", name="Duty roster")).to_be_visible()
    expect(doctor.get_by_role("button", name="Save the week")).to_have_count(0)
    today_cell = (
        doctor.locator("tr", has_text="Colorectal cancer").locator("td").nth(today.weekday())
    )
    expect(today_cell).to_have_text("Dr. Chen Ming")
    too_wide["roster, as a physician"] = sideways(doctor)
    screenshots(doctor, "roster-physician")
    # On a phone the week scrolls in its frame: today's column, with the groups beside it.
    wrap = doctor.locator(".roster-wrap")
    wrap.evaluate(
        """wrap => {
          const today = wrap.querySelector("th[aria-current=date]");
          const groups = wrap.querySelector("thead th");
          wrap.scrollLeft = today.offsetLeft - groups.offsetWidth;
        }"""
    )
    wrap.screenshot(path=str(SHOTS / "roster-physician-today-phone.png"))

    open_menu_link(doctor, "Department dashboard")
    expect(doctor.get_by_role("heading", name="Department dashboard")).to_be_visible()
    group = doctor.locator(
        "section.dash-group", has=doctor.get_by_role("heading", name="Colorectal cancer")
    )
    line = group.locator(".dash-group-line")
    expect(line).to_contain_text("1 question in")
    expect(line).to_contain_text("100% answered within target.")
    expect(line).to_contain_text(re.compile(r"Median \d+\.\d h, 90th percentile \d+\.\d h\."))
    week = group.locator("tbody tr", has_text="(so far)")
    cells = week.locator("td")
    expect(cells.nth(0)).to_have_text("1")  # asked
    expect(cells.nth(1)).to_have_text("1")  # answered
    expect(cells.nth(2)).to_have_text("0.0")  # median hours: answered within the minute
    expect(cells.nth(4)).to_contain_text("100%")
    expect(group.get_by_text("No question is waiting.")).to_be_visible()
    expect(group.locator("svg.chart rect.chart-bar-share")).to_have_count(1)
    physicians = doctor.get_by_test_id("physician-table")
    expect(physicians.locator("tr", has_text="Dr. Chen Ming").locator("td").first).to_have_text("1")
    summary = doctor.get_by_test_id("department-summary")
    expect(summary).to_contain_text("Questions asked")
    too_wide["dashboard"] = sideways(doctor)
    group.scroll_into_view_if_needed()
    group.screenshot(path=str(SHOTS / "dashboard-colorectal-phone.png"))
    screenshots(doctor, "dashboard-physician")

    # Only the roster's frame scrolls sideways on a phone, never the page.
    assert too_wide == dict.fromkeys(too_wide, 0), (
        f"pages wider than a 390px phone (px beyond the screen): {too_wide}"
    )
