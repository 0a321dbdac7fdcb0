"""The whole MDT through the pages: open from a question, consent, schedule, opinions, consensus."""

from mdt.models import AuditEvent, Case, Consent
from notifications.models import Notification, Verb
from tests.mdt.conftest import SUMMARY


def _form(values: dict, disciplines) -> dict:
    return {**values, "disciplines_needed": [d.pk for d in disciplines]}


def test_a_case_from_a_question_to_a_consensus_the_asker_reads(
    client, question_factory, net_category, board_people, disciplines, session_factory, patient
):
    question = question_factory(
        author=patient, category=net_category, title="Should I have surgery for my pancreatic NET?"
    )
    owner = board_people["owner"]
    client.force_login(owner)
    page = client.get(question.get_absolute_url())
    assert "Discuss this case at the MDT" in page.content.decode()
    response = client.post(
        f"/mdt/cases/new/?question={question.pk}",
        _form(SUMMARY, [disciplines["pathology"], disciplines["surgical-oncology"]]),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get()
    assert case.question is None
    consent = Consent.objects.get()
    assert Notification.objects.filter(recipient=patient, verb=Verb.MDT_CONSENT).exists()

    client.force_login(patient)
    page = client.get(question.get_absolute_url()).content.decode()
    assert "May the physicians discuss your question at the MDT?" in page
    response = client.post(f"/mdt/consent/{consent.pk}/", {"decision": "give"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.question_id == question.pk

    session = session_factory()
    client.force_login(owner)
    response = client.post(f"/mdt/cases/{case.pk}/schedule/", {"session": session.pk})
    assert response.status_code == 302, response.content.decode()[:3000]
    for person, text in [
        (owner, "Octreotide is working; resection is worth discussing."),
        (board_people["pathologist"], "Ki-67 8% confirms G2."),
        (board_people["chair"], "Resect the primary first."),
    ]:
        client.force_login(person)
        response = client.post(f"/mdt/cases/{case.pk}/opinion/", {"body": text})
        assert response.status_code == 302, response.content.decode()[:3000]
    client.force_login(board_people["recorder"])
    page = client.get(f"/mdt/cases/{case.pk}/").content.decode()
    assert "Ki-67 8% confirms G2." in page
    response = client.post(
        f"/mdt/cases/{case.pk}/consensus/",
        {
            "recommendation": "Resection of the primary, then PRRT for the liver.",
            "rationale": "ENETS 2023.",
            "references": "ENETS guidance 2023",
            "dissent": "",
            "summary_zh": "建议先手术切除原发灶，再做PRRT治疗肝转移。",
            "summary_en": "Surgery for the main tumour first, then PRRT for the liver.",
            "final": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Notification.objects.filter(recipient=patient, verb=Verb.MDT_CONSENSUS).exists()

    client.force_login(patient)
    page = client.get(question.get_absolute_url()).content.decode()
    assert "MDT consensus" in page
    assert "Surgery for the main tumour first" in page
    client.logout()
    page = client.get(question.get_absolute_url()).content.decode()
    assert "Surgery for the main tumour first" in page

    client.force_login(board_people["outsider"])
    assert client.get(f"/mdt/cases/{case.pk}/").status_code == 404
    assert client.get(f"/mdt/sessions/{session.pk}/").status_code == 404
    assert client.get("/mdt/").status_code == 200
    client.force_login(board_people["moderator"])
    assert client.get(f"/mdt/cases/{case.pk}/audit/").status_code == 200
    assert AuditEvent.objects.filter(case=case, action="viewed").exists()
    assert client.get(f"/mdt/sessions/{session.pk}/calendar.ics").status_code == 200
    assert client.get(f"/mdt/cases/{case.pk}/export.txt").status_code == 200
