"""The MDT's pages as people use them: forms that refuse, the patient's view, query counts."""

import pytest
from django.utils import translation

from mdt import services
from mdt.models import Case, Consent, Opinion
from tests.mdt.conftest import SUMMARY
from tests.mdt.test_services import FINAL


def _case_form(disciplines, **changes):
    return {**SUMMARY, **changes, "disciplines_needed": [disciplines["pathology"].pk]}


def test_a_case_with_a_phone_number_is_refused_with_the_reason(client, board_people, disciplines):
    client.force_login(board_people["owner"])
    response = client.post(
        "/mdt/cases/new/", _case_form(disciplines, imaging="Images: call 13812345678")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Remove what could identify the patient (13812345678)" in page
    # What the physician wrote is still in the form.
    assert "Resection of primary and liver lesions, or PRRT first?" in page
    assert not Case.objects.exists()


def test_the_guard_speaks_chinese(client, board_people, disciplines):
    client.force_login(board_people["owner"])
    client.cookies["django_language"] = "zh-hans"
    response = client.post("/mdt/cases/new/", _case_form(disciplines, labs="ID 11010519491231002X"))
    assert "请删除可能识别出患者身份的内容" in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "²", "9" * 30, "-1", "0"])
def test_a_bad_question_number_is_a_404(client, board_people, value):
    client.force_login(board_people["owner"])
    assert client.get("/mdt/cases/new/", {"question": value}).status_code == 404


def test_a_double_submitted_opinion_is_one_version(client, scheduled_case, board_people):
    client.force_login(board_people["pathologist"])
    for _ in range(2):
        response = client.post(f"/mdt/cases/{scheduled_case.pk}/opinion/", {"body": "G2."})
        assert response.status_code == 302
    opinion = Opinion.objects.get()
    assert opinion.version == 1 and opinion.versions.count() == 1


def test_a_frozen_case_refuses_an_opinion_and_says_why(client, scheduled_case, board_people):
    services.consensus_save(
        case=scheduled_case, user=board_people["chair"], values=FINAL, final=True
    )
    client.force_login(board_people["pathologist"])
    response = client.post(f"/mdt/cases/{scheduled_case.pk}/opinion/", {"body": "Late."})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The consensus is final: the case is frozen." in page
    assert not Opinion.objects.exists()
    # The page offers no form that would be refused.
    page = client.get(f"/mdt/cases/{scheduled_case.pk}/").content.decode()
    assert f'action="/mdt/cases/{scheduled_case.pk}/opinion/"' not in page


def test_an_empty_opinion_is_a_form_error(client, scheduled_case, board_people):
    client.force_login(board_people["pathologist"])
    response = client.post(f"/mdt/cases/{scheduled_case.pk}/opinion/", {"body": "  "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_the_session_form_refuses_a_deadline_after_the_start(client, board_people):
    client.force_login(board_people["chair"])
    response = client.post(
        "/mdt/sessions/new/",
        {
            "title": "GEP-NET MDT",
            "starts_at": "2031-03-02T14:00",
            "ends_at": "2031-03-02T16:00",
            "submission_deadline": "2031-03-03T12:00",
            "chair": board_people["chair"].pk,
            "recorder": board_people["recorder"].pk,
            "invited": [board_people["pathologist"].pk],
        },
    )
    assert response.status_code == 200
    assert "The deadline must be before the session starts." in response.content.decode()


def test_the_session_form_offers_only_verified_physicians(client, board_people, patient):
    client.force_login(board_people["chair"])
    page = client.get("/mdt/sessions/new/").content.decode()
    assert "Dr. Path · Pathology" in page
    assert patient.name not in page


def test_the_ics_file_names_the_session_and_no_case(client, scheduled_case, board_people):
    client.force_login(board_people["pathologist"])
    response = client.get(f"/mdt/sessions/{scheduled_case.session_id}/calendar.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert "SUMMARY:MDT: GEP-NET MDT" in body
    assert "TZID=Asia/Shanghai" in body
    assert "Pancreatic" not in body


def test_the_export_holds_the_summary_opinions_and_consensus(client, scheduled_case, board_people):
    services.opinion_save(case=scheduled_case, author=board_people["pathologist"], body="G2.")
    services.consensus_save(case=scheduled_case, user=board_people["chair"], values=FINAL)
    client.force_login(board_people["owner"])
    response = client.get(f"/mdt/cases/{scheduled_case.pk}/export.txt")
    body = response.content.decode()
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Ki-67 8%" in body and "Dr. Path (Pathology)" in body
    assert "Resect the primary, then PRRT." in body
    assert scheduled_case.audit_events.filter(action="exported").count() == 1


def test_the_session_page_shows_which_disciplines_have_spoken(client, scheduled_case, board_people):
    services.opinion_save(case=scheduled_case, author=board_people["pathologist"], body="G2.")
    client.force_login(board_people["chair"])
    page = client.get(f"/mdt/sessions/{scheduled_case.session_id}/").content.decode()
    assert "Pathology: Opinion given" in page
    assert "Surgical oncology: Waiting" in page
    assert "Nuclear medicine" not in page


# The patient's view


@pytest.fixture
def linked(case_factory, question_factory, net_category, patient, scheduled_case, board_people):
    question = question_factory(author=patient, category=net_category)
    case = case_factory(question=question)
    consent = Consent.objects.get(case=case)
    return case, question, consent


def _final(case, board_people):
    services.case_schedule(
        case=case,
        user=board_people["moderator"],
        session=Case.objects.exclude(session=None).first().session,
    )
    services.opinion_save(case=case, author=board_people["pathologist"], body="G2.")
    services.consensus_save(case=case, user=board_people["chair"], values=FINAL, final=True)


def _block(page: str) -> str:
    start = page.index('<aside class="mdt-question-consensus"')
    return page[start : page.index("</aside>", start)]


def test_the_asker_and_a_visitor_read_the_same_consensus(client, linked, patient, board_people):
    case, question, consent = linked
    client.force_login(patient)
    page = client.get(question.get_absolute_url()).content.decode()
    assert "May the physicians discuss your question at the MDT?" in page
    assert "MDT consensus" not in page
    client.post(f"/mdt/consent/{consent.pk}/", {"decision": "give"})
    _final(case, board_people)
    asker_page = client.get(question.get_absolute_url()).content.decode()
    block = _block(asker_page)
    assert "Surgery first, then a targeted radiation treatment for the liver." in block
    assert "Pathology" in block
    assert "not a prescription" in block
    # Nothing of the board's working papers reaches the question.
    assert "Dr. Path would start with PRRT." not in asker_page
    assert "ENETS 2023" not in asker_page
    client.logout()
    visitor_page = client.get(question.get_absolute_url()).content.decode()
    assert _block(visitor_page) == block
    assert "Withdraw my consent" in asker_page and "Withdraw my consent" not in visitor_page


def test_the_chinese_reader_gets_the_chinese_summary(client, linked, patient, board_people):
    case, question, consent = linked
    services.consent_decide(consent=consent, user=patient, give=True)
    _final(case, board_people)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(question.get_absolute_url()).content.decode()
    assert "建议先手术，再针对肝脏病灶做PRRT治疗。" in page
    with translation.override("zh-hans"):
        assert "病理科" in _block(page)


def test_a_refused_case_never_shows_on_the_question(client, linked, patient, board_people):
    case, question, consent = linked
    client.force_login(patient)
    client.post(f"/mdt/consent/{consent.pk}/", {"decision": "refuse"})
    # A replayed "yes" after the refusal changes nothing.
    client.post(f"/mdt/consent/{consent.pk}/", {"decision": "give"})
    _final(case, board_people)
    page = client.get(question.get_absolute_url()).content.decode()
    assert "MDT consensus" not in page
    assert "May the physicians discuss" not in page


def test_only_the_asker_may_answer_the_consent(client, linked, board_people, user_factory):
    _case, _question, consent = linked
    for person in (user_factory(), board_people["owner"]):
        client.force_login(person)
        assert client.post(f"/mdt/consent/{consent.pk}/", {"decision": "give"}).status_code == 404
    consent.refresh_from_db()
    assert consent.state == Consent.State.PENDING


def test_the_visitors_cached_question_page_shows_the_consensus_once_final(
    client, linked, patient, board_people, django_capture_on_commit_callbacks
):
    case, question, consent = linked
    services.consent_decide(consent=consent, user=patient, give=True)
    assert "MDT consensus" not in client.get(question.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _final(case, board_people)
    assert "MDT consensus" in client.get(question.get_absolute_url()).content.decode()


# Query counts: flat as opinions, cases and agenda grow


def _opinions(case, board_people, physician_of, count):
    for index in range(count):
        author = physician_of("pathology")
        case.session.invited.add(author)
        services.opinion_save(case=case, author=author, body=f"Opinion {index}")


@pytest.mark.parametrize("count", [1, 12])
def test_a_case_page_query_count_is_flat(
    client, scheduled_case, board_people, physician_of, count, django_assert_num_queries
):
    _opinions(scheduled_case, board_people, physician_of, count)
    services.consensus_save(case=scheduled_case, user=board_people["chair"], values=FINAL)
    client.force_login(board_people["pathologist"])
    client.get("/")
    # user, profile; case; invitation; the audit row; opinions; disciplines; invited;
    # consents (the bell comes with the user; an invited physician schedules nothing)
    with django_assert_num_queries(9):
        response = client.get(f"/mdt/cases/{scheduled_case.pk}/")
    assert response.content.decode().count('class="mdt-opinion"') == count


@pytest.mark.parametrize("count", [1, 10])
def test_the_board_query_count_is_flat(
    client, case_factory, board_people, count, django_assert_num_queries
):
    for _ in range(count):
        case_factory()
    client.force_login(board_people["owner"])
    client.get("/")
    # user with the bell, profile; open cases; closed cases; sessions
    with django_assert_num_queries(5):
        response = client.get("/mdt/")
    assert response.content.decode().count('class="card mdt-card"') == count


@pytest.mark.parametrize("count", [1, 6])
def test_a_session_page_query_count_is_flat(
    client, session_factory, case_factory, board_people, count, django_assert_num_queries
):
    session = session_factory()
    for _ in range(count):
        case = case_factory()
        services.case_schedule(case=case, user=board_people["owner"], session=session)
        services.opinion_save(case=case, author=board_people["pathologist"], body="G2.")
    client.force_login(board_people["pathologist"])
    client.get("/")
    with django_assert_num_queries(8):
        response = client.get(f"/mdt/sessions/{session.pk}/")
    assert response.content.decode().count("Pathology: Opinion given") == count


def test_the_session_page_counts_the_owners_discipline(client, scheduled_case, board_people):
    client.force_login(board_people["chair"])
    page = client.get(f"/mdt/sessions/{scheduled_case.session_id}/").content.decode()
    # The owner (medical oncology) presents the case: that discipline is there.
    assert "Medical oncology: Waiting" in page
