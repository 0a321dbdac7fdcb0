import zoneinfo
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.e2e

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(moment: datetime) -> str:
    """A datetime-local field's value: the site shows and reads China Standard Time."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def create_event(page, site, *, title, starts, hours, capacity, host_name, online=False) -> str:
    page.goto(site.url + "/salon/")
    page.get_by_role("link", name="New event").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("A talk by our physicians, with **time for questions**.")
    page.get_by_label("Starts").fill(local(starts))
    page.get_by_label("Ends").fill(local(starts + timedelta(hours=hours)))
    if online:
        page.get_by_label("Online meeting").check()
        page.get_by_label("Meeting link").fill("https://meeting.example.com/salon-e2e")
    else:
        page.get_by_label("Place:", exact=True).fill("Outpatient building, Room 302")
    page.get_by_label("Places:", exact=True).fill(str(capacity))
    page.get_by_label(host_name, exact=False).check()
    page.get_by_label("State").select_option(label="Published")
    page.get_by_role("button", name="Create event").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.url


def test_waitlist_promotion_and_live_room(site, new_page):
    organiser_email = site.person("moderator", "Organiser Gao")
    doctor_email = site.person("doctor", "Dr. Qian Li", "--verified")
    first_email = site.person("patient", "Early Bird Wu")
    waiting_email = site.person("patient", "Patient Waiting Sun")
    now = datetime.now(SHANGHAI).replace(second=0, microsecond=0)

    organiser = new_page()
    sign_in(organiser, site, organiser_email, PASSWORD)
    full_url = create_event(
        organiser,
        site,
        title="Eating well during chemotherapy",
        starts=now + timedelta(days=3),
        hours=2,
        capacity=1,
        host_name="Dr. Qian Li",
    )
    live_url = create_event(
        organiser,
        site,
        title="Ask the physicians online",
        starts=now - timedelta(minutes=10),
        hours=2,
        capacity=10,
        host_name="Dr. Qian Li",
        online=True,
    )

    # The first patient takes the only place.
    first = new_page()
    sign_in(first, site, first_email, PASSWORD)
    first.goto(full_url)
    first.get_by_role("button", name="Take a place").click()
    expect(first.get_by_text("You have a confirmed place.")).to_be_visible()

    # The second patient finds the event full and joins the waitlist.
    waiting = new_page()
    sign_in(waiting, site, waiting_email, PASSWORD)
    waiting.get_by_role("banner").get_by_role("link", name="Salon").click()
    waiting.get_by_role("link", name="Eating well during chemotherapy").click()
    expect(waiting.get_by_test_id("attendee-count")).to_contain_text("1 of 1 places taken")
    waiting.get_by_role("button", name="Join the waitlist").click()
    expect(waiting.get_by_test_id("rsvp-status")).to_contain_text(
        "You are number 1 on the waitlist"
    )

    # The confirmed patient cancels; the waiting one is promoted and told.
    first.reload()
    first.get_by_role("button", name="Cancel my place").click()
    expect(first.get_by_text("Your place is cancelled")).to_be_visible()

    waiting.goto(site.url + "/notifications/")
    expect(
        waiting.get_by_text(
            "A place opened up: you are now confirmed for “Eating well during chemotherapy”."
        )
    ).to_be_visible()
    waiting.goto(full_url)
    expect(waiting.get_by_test_id("rsvp-status")).to_have_text("You have a confirmed place.")

    # Two attendees in the live room see each other's question and vote without reloading.
    for page in (first, waiting):
        page.goto(live_url)
        page.get_by_role("button", name="Take a place").click()
        expect(page.get_by_test_id("online-link")).to_be_visible()
        page.get_by_role("link", name="Enter the live room").click()
        expect(page.locator("[data-salon-room][data-live=connected]")).to_be_attached()

    first.get_by_label("Your question for the hosts").fill(
        "Does a short walk after meals help with nausea?"
    )
    first.get_by_role("button", name="Send question").click()
    question = waiting.locator(".live-question", has_text="short walk after meals")
    expect(question).to_be_visible()
    expect(question.locator("[data-vote-count]")).to_have_text("0 votes")

    question.get_by_role("button", name="Vote").click()
    expect(question.get_by_text("You voted")).to_be_visible()
    mine = first.locator(".live-question", has_text="short walk after meals")
    expect(mine.locator("[data-vote-count]")).to_have_text("1 vote")

    # The host doctor marks it answered; it moves to the answered list for everyone.
    doctor = new_page()
    sign_in(doctor, site, doctor_email, PASSWORD)
    doctor.goto(live_url + "live/")
    asked = doctor.locator(".live-question", has_text="short walk after meals")
    asked.get_by_text("Mark answered").first.click()
    asked.get_by_label("What the host said").fill("Yes: a gentle ten-minute walk often helps.")
    asked.get_by_role("button", name="Mark answered").click()
    answered = first.locator('[data-live-list="answered"] .live-question', has_text="short walk")
    expect(answered).to_contain_text("a gentle ten-minute walk often helps")
    expect(waiting.locator('[data-live-list="open"] .live-question')).to_have_count(0)
