"""Who reaches which MDT page: a matrix of roles × every page and export.

Uninvited doctors, patients, unverified physicians and visitors get the
site's 404 throughout, as if the MDT did not exist; the case's people read.
"""

import pytest

from mdt import services

VISITOR, PATIENT, PENDING, OUTSIDER = "visitor", "patient", "pending", "outsider"
OWNER, CHAIR, RECORDER, INVITED, MODERATOR = "owner", "chair", "recorder", "invited", "moderator"
ROLES = [VISITOR, PATIENT, PENDING, OUTSIDER, OWNER, CHAIR, RECORDER, INVITED, MODERATOR]
BOARD = {OUTSIDER, OWNER, CHAIR, RECORDER, INVITED, MODERATOR}
CASE_READERS = {OWNER, CHAIR, RECORDER, INVITED, MODERATOR}

# page → (who gets 200, who of the readers gets 403 instead)
PAGES = {
    "/mdt/": (BOARD, set()),
    "/mdt/cases/new/": (BOARD, set()),
    "/mdt/sessions/new/": (BOARD, set()),
    "/mdt/cases/{case}/": (CASE_READERS, set()),
    "/mdt/cases/{case}/edit/": ({OWNER, MODERATOR}, {CHAIR, RECORDER, INVITED}),
    "/mdt/cases/{case}/opinions/{opinion}/": (CASE_READERS, set()),
    "/mdt/cases/{case}/export.txt": (CASE_READERS, set()),
    "/mdt/cases/{case}/audit/": ({MODERATOR}, set()),
    "/mdt/sessions/{session}/": (CASE_READERS, set()),
    "/mdt/sessions/{session}/edit/": ({CHAIR, MODERATOR}, {OWNER, RECORDER, INVITED}),
    "/mdt/sessions/{session}/calendar.ics": (CASE_READERS, set()),
}


@pytest.fixture
def people(board_people, patient, pending_physician):
    return {
        PATIENT: patient,
        PENDING: pending_physician.user,
        OUTSIDER: board_people["outsider"],
        OWNER: board_people["owner"],
        CHAIR: board_people["chair"],
        RECORDER: board_people["recorder"],
        INVITED: board_people["pathologist"],
        MODERATOR: board_people["moderator"],
    }


@pytest.fixture
def urls(scheduled_case, board_people):
    opinion = services.opinion_save(
        case=scheduled_case, author=board_people["pathologist"], body="G2 confirmed."
    )
    services.opinion_save(
        case=scheduled_case, author=board_people["pathologist"], body="G2 confirmed; Ki-67 8%."
    )
    return {"case": scheduled_case.pk, "session": scheduled_case.session_id, "opinion": opinion.pk}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_the_matrix_says(client, people, urls, role):
    if role != VISITOR:
        client.force_login(people[role])
    for pattern, (allowed, forbidden) in PAGES.items():
        response = client.get(pattern.format(**urls))
        expected = 200 if role in allowed else 403 if role in forbidden else 404
        assert response.status_code == expected, (role, pattern, response.status_code)
        if expected == 404:
            # The site's own 404 page, with nothing of the case on it.
            assert "Pancreatic NET" not in response.content.decode()


POSTS = {
    "/mdt/cases/{case}/opinion/": {"body": "An opinion."},
    "/mdt/cases/{case}/consensus/": {"recommendation": "R", "rationale": "Why"},
    "/mdt/cases/{case}/schedule/": {"session": ""},
    "/mdt/cases/{case}/follow-up/": {"follow_up_on": "2030-01-01"},
    "/mdt/cases/{case}/close/": {},
}


@pytest.mark.parametrize("role", [VISITOR, PATIENT, PENDING, OUTSIDER])
def test_people_outside_the_case_cannot_change_it(client, people, urls, role, scheduled_case):
    if role != VISITOR:
        client.force_login(people[role])
    for pattern, data in POSTS.items():
        response = client.post(pattern.format(**urls), data)
        assert response.status_code == 404, (role, pattern)
    scheduled_case.refresh_from_db()
    assert scheduled_case.session_id is not None
    assert scheduled_case.closed_at is None
    assert scheduled_case.opinions.count() == 1


def test_a_moderator_reads_but_does_not_write_opinions_or_the_consensus(client, people, urls):
    client.force_login(people[MODERATOR])
    assert client.post(f"/mdt/cases/{urls['case']}/opinion/", {"body": "Mine"}).status_code == 403
    response = client.post(
        f"/mdt/cases/{urls['case']}/consensus/", {"recommendation": "R", "rationale": "W"}
    )
    assert response.status_code == 403


def test_only_the_chair_or_recorder_writes_the_consensus(client, people, urls):
    client.force_login(people[INVITED])
    data = {"recommendation": "R", "rationale": "W"}
    assert client.post(f"/mdt/cases/{urls['case']}/consensus/", data).status_code == 403
    client.force_login(people[RECORDER])
    assert client.post(f"/mdt/cases/{urls['case']}/consensus/", data).status_code == 302


def test_the_board_lists_only_the_cases_a_person_may_read(
    client, people, scheduled_case, case_factory, board_people
):
    other = case_factory(owner=board_people["outsider"], title="Gastric NET, G1")
    client.force_login(people[INVITED])
    page = client.get("/mdt/").content.decode()
    assert scheduled_case.title in page
    assert other.title not in page
    client.force_login(people[MODERATOR])
    page = client.get("/mdt/").content.decode()
    assert scheduled_case.title in page and other.title in page


def test_access_ends_with_the_invitation(client, people, scheduled_case, session_factory):
    session = scheduled_case.session
    client.force_login(people[INVITED])
    assert client.get(f"/mdt/cases/{scheduled_case.pk}/").status_code == 200
    services.session_save(
        user=session.chair,
        session=session,
        values={
            "title": session.title,
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "submission_deadline": session.submission_deadline,
            "location": session.location,
            "chair": session.chair,
            "recorder": session.recorder,
        },
        invited=[],
    )
    assert client.get(f"/mdt/cases/{scheduled_case.pk}/").status_code == 404
    assert client.get(f"/mdt/sessions/{session.pk}/").status_code == 404


def test_search_never_shows_a_case(client, people, scheduled_case):
    client.force_login(people[MODERATOR])
    page = client.get("/search/", {"q": "Pancreatic NET liver metastases"}).content.decode()
    assert "PRRT first" not in page
