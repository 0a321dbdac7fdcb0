"""The MDT's journey (issue 15's "Done when"), in real browsers through the real forms.

A patient asks about a pancreatic NET; a medical oncologist opens an MDT case
from the question and the patient agrees to it; a surgeon schedules a session
with a pathologist and a radiologist recording, and the case goes on its
agenda. Three physicians of three disciplines have the case open at once and
see each other's opinions arrive live; the chair makes the consensus final,
which freezes every open page; the patient is told and reads the plain-words
recommendation on their question, as does a visitor. A physician who was not
invited finds nothing at any of the case's or session's addresses.

It runs on a server of its own: the session form offers every verified
physician of the site, and the journey's counts (the bell, the agenda) are
its own.
"""

import json
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
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

# For a person to look at, never in the repository.
SHOTS = Path(tempfile.gettempdir()) / "mdt-shots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SHANGHAI = ZoneInfo("Asia/Shanghai")
NET = "Neuroendocrine tumours (GEP-NET)"

# email, name, discipline (None: a patient), made through account_create.
PEOPLE = {
    "patient": ("mdt-patient@example.com", "Zhang Wei", None),
    "owner": ("mdt-owner@example.com", "Dr. Lin Hua", "medical-oncology"),
    "chair": ("mdt-chair@example.com", "Dr. Sun Gang", "surgical-oncology"),
    "recorder": ("mdt-recorder@example.com", "Dr. He Jing", "radiology"),
    "pathologist": ("mdt-pathologist@example.com", "Dr. Qian Yu", "pathology"),
    "outsider": ("mdt-outsider@example.com", "Dr. Zhao Lei", "nuclear-medicine"),
}

MAKE_PEOPLE = """
import json
from accounts.models import Discipline
from accounts.services import account_create
for email, name, slug in json.loads({people!r}):
    account_create(
        email=email,
        password={password!r},
        role="doctor" if slug else "patient",
        name=name,
        verified=bool(slug),
        discipline=Discipline.objects.get(slug=slug) if slug else None,
    )
"""


def make_people(roles) -> str:
    """Code for ``manage.py shell -c`` that makes these people of PEOPLE."""
    return MAKE_PEOPLE.format(
        people=json.dumps([PEOPLE[role] for role in roles]), password=PASSWORD
    )


@pytest.fixture(scope="module")
def mdt_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mdt-site")
    database_url = _database_url(tmp)
    server, processes = start_server(tmp, database_url=database_url)
    yield server
    stop_server(processes)
    _drop_database(database_url)


def shot(page, name: str, *, sizes=("phone", "desktop")) -> None:
    """The whole page at a phone's width and a desktop's, then back to the phone."""
    SHOTS.mkdir(exist_ok=True)
    for size in sizes:
        page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size(PHONE)


def sideways(page) -> int:
    """How far the whole page scrolls sideways at the phone's width (0: not at all)."""
    page.set_viewport_size(PHONE)
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def in_chinese(page, site) -> None:
    # The language cookie the site's switcher sets (no race with its script).
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": site.url}]
    )
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def live(page) -> None:
    """Wait for the case page's socket, and mark the page to prove it is never reloaded."""
    expect(page.locator("[data-mdt-case]")).to_have_attribute("data-live", "connected")
    page.evaluate("window.stillTheSamePage = true")


def local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_a_question_goes_to_the_mdt_and_its_consensus_reaches_the_patient(mdt_site, new_page):
    site = mdt_site
    email = {role: person[0] for role, person in PEOPLE.items()}
    # Two manage.py processes: the physicians are made while the patient asks.
    pool = ThreadPoolExecutor(2)
    made = [
        pool.submit(site.manage, "shell", "-c", make_people(people))
        for people in (["patient"], [role for role in PEOPLE if role != "patient"])
    ]
    pool.shutdown(wait=False)
    made[0].result()
    too_wide = {}
    title = "Should my husband have surgery for his pancreatic NET?"

    # 1. The patient asks in GEP-NET.
    patient = new_page()
    sign_in(patient, site, email["patient"], PASSWORD)
    question_url = ask(
        patient,
        site,
        title,
        "He has a G2 tumour in the tail of the pancreas and two spots in the liver. "
        "Octreotide injections started two months ago. Is an operation still possible?",
        topic=NET,
    )

    # 2. The medical oncologist opens a case from the question.
    made[1].result()
    owner = new_page()
    sign_in(owner, site, email["owner"], PASSWORD)
    owner.goto(question_url)
    owner.get_by_role("link", name="Discuss this case at the MDT").click()
    expect(owner.get_by_role("heading", name="Open an MDT case")).to_be_visible()
    expect(owner.locator(".notice")).to_contain_text(f"From the question “{title}”")
    case_form = owner.locator("form.mdt-case-form")
    for label, value in [
        ("Title", "Pancreatic NET, G2, liver metastases"),
        ("Tumour site", "Pancreatic tail, two liver metastases"),
        ("Histology", "Well-differentiated neuroendocrine tumour"),
        ("Grade", "G2, Ki-67 8%"),
        ("Stage", "Stage IV (T2N1M1)"),
        ("Functional status", "Non-functional; ECOG 0"),
        ("Prior treatments", "Month 0: diagnosis. Month 2: octreotide LAR started."),
        ("Imaging", "68Ga-DOTATATE PET: avid primary and both liver lesions."),
        ("Pathology", "Synaptophysin and chromogranin A positive."),
        ("Question for the board", "Resection of primary and liver lesions, or PRRT first?"),
    ]:
        case_form.get_by_role("textbox", name=re.compile(rf"^{re.escape(label)}:?$")).fill(value)
    for discipline in ("Medical oncology", "Surgical oncology", "Pathology", "Radiology"):
        case_form.get_by_role("checkbox", name=discipline, exact=True).check()
    shot(owner, "case-form", sizes=("phone",))
    owner.get_by_role("button", name="Open the case").click()
    expect(
        owner.get_by_role("heading", name="Pancreatic NET, G2, liver metastases")
    ).to_be_visible()
    expect(owner.get_by_text("The asker is asked for consent")).to_be_visible()
    expect(owner.locator(".mdt-facts")).to_contain_text("Waiting for the asker's consent")
    case_url = owner.url

    # 3. The patient is asked, on their question, and agrees.
    patient.goto(question_url)
    expect(patient.locator("#notification-bell [data-unread]")).to_have_text("1")
    consent = patient.locator("aside.mdt-consent")
    expect(consent).to_contain_text("May the physicians discuss your question at the MDT?")
    expect(consent).to_contain_text("Dr. Lin Hua would like")
    consent.scroll_into_view_if_needed()
    shot(patient, "question-consent")
    too_wide["question, consent asked"] = sideways(patient)
    consent.get_by_role("button", name="Yes, I agree").click()
    expect(patient.get_by_text("Thank you. The physicians will discuss your case")).to_be_visible()
    expect(patient.get_by_text("You agreed to an MDT discussion of your question.")).to_be_visible()
    expect(patient.get_by_role("button", name="Yes, I agree")).to_have_count(0)
    owner.reload()
    expect(owner.locator(".mdt-facts").get_by_role("link", name=title)).to_be_visible()

    # 4. The surgeon schedules a session: a radiologist records, a pathologist is invited.
    chair = new_page()
    sign_in(chair, site, email["chair"], PASSWORD)
    chair.goto(site.url + "/mdt/sessions/new/")
    expect(chair.get_by_role("heading", name="Schedule an MDT session")).to_be_visible()
    now = datetime.now(SHANGHAI)
    starts = (now + timedelta(days=3)).replace(hour=14, minute=0)
    chair.get_by_label("Title").fill("GEP-NET MDT")
    chair.get_by_label("Starts").fill(local(starts))
    chair.get_by_label("Ends").fill(local(starts + timedelta(hours=2)))
    chair.get_by_label("Cases submitted by").fill(local(starts - timedelta(days=1)))
    chair.get_by_label("Place or meeting link").fill("Room 501, outpatient building")
    expect(chair.get_by_label("Chair").locator("option:checked")).to_have_text(
        "Dr. Sun Gang · Surgical oncology"
    )
    chair.get_by_label("Recorder").select_option(label="Dr. He Jing · Radiology")
    chair.get_by_role("checkbox", name="Dr. Qian Yu · Pathology").check()
    shot(chair, "session-form", sizes=("phone",))
    chair.get_by_role("button", name="Schedule the session").click()
    expect(chair.get_by_text("The session is scheduled.")).to_be_visible()
    expect(chair.get_by_role("heading", name="GEP-NET MDT")).to_be_visible()
    session_url = chair.url

    # The owner puts the case on the agenda from the case page.
    owner.goto(case_url)
    owner.get_by_label("Session").select_option(label=f"GEP-NET MDT · {starts:%Y-%m-%d %H:%M}")
    owner.get_by_role("button", name="Save agenda").click()
    expect(owner.get_by_text("The agenda is updated.")).to_be_visible()
    expect(owner.get_by_role("link", name="Edit the summary")).to_be_visible()
    expect(owner.locator(".mdt-facts").get_by_role("link", name="GEP-NET MDT")).to_be_visible()
    chair.reload()
    expect(
        chair.locator(".mdt-agenda").get_by_role(
            "link", name="Pancreatic NET, G2, liver metastases"
        )
    ).to_be_visible()
    shot(chair, "session")

    # 5. Three disciplines have the case open at once; opinions arrive live.
    pathologist = new_page()
    sign_in(pathologist, site, email["pathologist"], PASSWORD)
    chair.goto(case_url)
    pathologist.goto(case_url)
    board = {"owner": owner, "chair": chair, "pathologist": pathologist}
    for page in board.values():
        live(page)
    opinions = [
        ("owner", "Octreotide is holding the disease; resection is worth discussing."),
        ("pathologist", "Ki-67 8% on the core biopsy confirms G2; no poorly differentiated part."),
        ("chair", "The primary and both lesions are resectable: distal pancreatectomy first."),
    ]
    for writer, text in opinions:
        page = board[writer]
        page.get_by_role("textbox", name="Your opinion").fill(text)
        page.get_by_role("button", name="Save opinion").click()
        expect(page.get_by_text("Your opinion is saved.")).to_be_visible()
        expect(page.locator(".mdt-opinion", has_text=text)).to_be_visible()
        for reader, other in board.items():
            if reader != writer:
                expect(other.locator(".mdt-opinion", has_text=text)).to_be_visible()
                assert other.evaluate("window.stillTheSamePage") is True, reader
        live(page)  # the writer's page reloaded: its socket again
    for page in board.values():
        expect(page.locator(".mdt-opinion")).to_have_count(3)
    discipline_marks = owner.locator("[data-discipline]")
    expect(owner.locator("[data-discipline=pathology]")).to_contain_text("Opinion given")
    expect(owner.locator("[data-discipline=radiology]")).to_contain_text("Waiting")
    expect(discipline_marks).to_have_count(4)
    shot(pathologist, "case-discussion")
    too_wide["case page, during the discussion"] = sideways(pathologist)

    # 6. The chair writes the consensus and makes it final; the open pages freeze.
    patient.goto(question_url)
    bell = patient.locator("#notification-bell [data-unread]")
    unread = int(bell.inner_text())
    patient.wait_for_timeout(500)  # the socket says hello
    chair.get_by_text("Write the consensus").click()
    chair.get_by_role("textbox", name="Recommendation").fill(
        "Distal pancreatectomy with resection of both liver lesions; then octreotide LAR."
    )
    chair.get_by_role("textbox", name="Rationale").fill(
        "Resectable G2 disease in a fit patient; DOTATATE-avid, so PRRT stays in reserve."
    )
    chair.get_by_role("textbox", name="Guideline references").fill(
        "ENETS 2023 guidance, pancreatic NET, section 4"
    )
    chair.get_by_role("textbox", name="For the patient, in Chinese").fill(
        "建议先手术切除胰腺肿瘤和肝脏的两处病灶，术后继续使用奥曲肽。"
    )
    summary_en = (
        "The team recommends an operation to remove the tumour in the pancreas and the two "
        "spots in the liver, then continuing the octreotide injections."
    )
    chair.get_by_role("textbox", name="For the patient, in English").fill(summary_en)
    chair.get_by_role("button", name="Make final").click()
    expect(chair.get_by_text("The consensus is final.", exact=True)).to_be_visible()
    for reader in ("owner", "pathologist"):
        page = board[reader]
        consensus = page.locator("[data-consensus]")
        expect(consensus).to_contain_text("Final since")
        expect(consensus).to_contain_text("Distal pancreatectomy with resection")
        expect(consensus).to_contain_text(summary_en)
        expect(
            page.get_by_text("The consensus is final: opinions and the summary are frozen.")
        ).to_be_visible()
        expect(page.get_by_role("textbox", name="Your opinion")).to_have_count(0)
        expect(page.get_by_role("button", name="Save opinion")).to_have_count(0)
        # The stage moves on with it, and the follow-up date stays to be set.
        expect(page.locator("[data-stage-badge]")).to_have_text("Consensus")
        assert page.evaluate("window.stillTheSamePage") is True, reader
    expect(owner.get_by_role("button", name="Save follow-up date")).to_be_visible()
    # The owner's page, never reloaded, offers no edit of the frozen summary either.
    expect(owner.get_by_role("link", name="Edit the summary")).to_have_count(0)
    expect(chair.get_by_role("textbox", name="Your opinion")).to_have_count(0)
    expect(chair.get_by_text("Edit the consensus")).to_have_count(0)
    shot(owner, "case-final")
    too_wide["case page, final"] = sideways(owner)

    # 7. The patient is told, and reads the consensus on their question.
    expect(bell).to_have_text(str(unread + 1))
    patient.locator("#notification-bell").click()
    patient.get_by_role(
        "link", name=f"The MDT agreed on a recommendation for your question “{title}”."
    ).click()
    expect(patient.get_by_role("heading", name=title)).to_be_visible()
    block = patient.locator("aside.mdt-question-consensus")
    expect(block).to_contain_text("MDT consensus")
    expect(block).to_contain_text(summary_en)
    expect(block).to_contain_text("not a prescription")
    block.scroll_into_view_if_needed()
    shot(patient, "question-consensus")
    too_wide["question, consensus"] = sideways(patient)
    in_chinese(patient, site)
    expect(patient.locator("aside.mdt-question-consensus")).to_contain_text(
        "建议先手术切除胰腺肿瘤"
    )
    shot(patient, "question-consensus-zh")
    in_chinese(owner, site)
    shot(owner, "case-final-zh")

    visitor = new_page()
    visitor.goto(question_url)
    visitor_block = visitor.locator("aside.mdt-question-consensus")
    expect(visitor_block).to_contain_text("MDT consensus")
    expect(visitor_block).to_contain_text(summary_en)
    expect(visitor.get_by_role("link", name="Discuss this case at the MDT")).to_have_count(0)

    # 8. A physician who was not invited finds nothing.
    outsider = new_page()
    sign_in(outsider, site, email["outsider"], PASSWORD)
    for url in (
        case_url,
        session_url,
        session_url + "calendar.ics",
        case_url + "export.txt",
    ):
        assert outsider.request.get(url).status == 404, url
    assert outsider.goto(case_url).status == 404
    # The invited can fetch them.
    assert pathologist.request.get(session_url + "calendar.ics").status == 200
    assert pathologist.request.get(case_url + "export.txt").status == 200

    assert too_wide == dict.fromkeys(too_wide, 0), (
        f"pages wider than a 390px phone (px beyond the screen): {too_wide}"
    )
