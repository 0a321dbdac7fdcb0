"""The MDT's rules, through its services: consent, freezing, the personal-data guard, versions."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from mdt import services
from mdt.models import AuditEvent, Case, Consensus, Consent, Opinion
from mdt.tasks import mdt_follow_ups_send
from notifications.models import Notification, Verb
from tests.mdt.conftest import SUMMARY

FINAL = {
    "recommendation": "Resect the primary, then PRRT.",
    "rationale": "Resectable primary; avid liver disease.",
    "references": "ENETS 2023\nhttps://www.nccn.org/guidelines",
    "dissent": "Dr. Path would start with PRRT.",
    "summary_en": "Surgery first, then a targeted radiation treatment for the liver.",
    "summary_zh": "建议先手术，再针对肝脏病灶做PRRT治疗。",
}


@pytest.fixture
def asked(case_factory, question_factory, net_category, patient):
    question = question_factory(author=patient, category=net_category)
    case = case_factory(question=question)
    return case, question, Consent.objects.get(case=case)


# Consent


def test_a_case_from_a_question_waits_for_the_askers_consent(asked, patient):
    case, question, consent = asked
    assert case.question is None
    assert consent.state == Consent.State.PENDING
    note = Notification.objects.get(recipient=patient, verb=Verb.MDT_CONSENT)
    assert note.url == question.get_absolute_url() + "#mdt-consent"


def test_a_refused_consent_keeps_the_question_unlinked(asked, patient, scheduled_case):
    case, question, consent = asked
    services.consent_decide(consent=consent, user=patient, give=False)
    case.refresh_from_db()
    assert case.question is None
    consent.refresh_from_db()
    assert consent.state == Consent.State.REFUSED
    # Refused is the last word: it cannot be turned into a yes by a replayed form.
    with pytest.raises(ValidationError):
        services.consent_decide(consent=consent, user=patient, give=True)
    case.refresh_from_db()
    assert case.question is None
    assert AuditEvent.objects.filter(case=case, action="consent_refused").count() == 1


def test_only_the_asker_decides(asked, board_people):
    _case, _question, consent = asked
    for person in (board_people["owner"], board_people["moderator"]):
        with pytest.raises(PermissionDenied):
            services.consent_decide(consent=consent, user=person, give=True)


def test_a_consent_given_links_and_can_be_withdrawn(asked, patient):
    case, question, consent = asked
    services.consent_decide(consent=consent, user=patient, give=True)
    case.refresh_from_db()
    assert case.question == question
    services.consent_decide(consent=consent, user=patient, give=False)
    case.refresh_from_db()
    assert case.question is None


def test_a_physician_cannot_ask_their_own_consent(case_factory, question_factory, board_people):
    question = question_factory(author=board_people["owner"])
    with pytest.raises(ValidationError):
        case_factory(question=question)
    assert not Case.objects.exists()


# The personal-data guard


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("imaging", "CT on file, call 13812345678 for the images"),
        ("labs", "ID 11010519491231002X, chromogranin high"),
        ("pathology", "Slides from lab@example.com"),
        ("title", "Case of 138 1234 5678"),
    ],
)
def test_every_case_field_is_guarded(case_factory, field, text):
    with pytest.raises(ValidationError) as error:
        case_factory(**{field: text})
    assert field in error.value.message_dict
    assert not Case.objects.exists()


def test_the_askers_name_never_enters_a_case(case_factory, question_factory, user_factory):
    asker = user_factory(name="Zhang Xiuying", email="xiuying.zhang@example.com")
    question = question_factory(author=asker)
    with pytest.raises(ValidationError) as error:
        case_factory(question=question, board_question="What should Zhang Xiuying do next?")
    assert "board_question" in error.value.message_dict
    with pytest.raises(ValidationError):
        case_factory(question=question, labs="Sent by xiuying.zhang")
    assert not Case.objects.exists()


def test_opinions_and_the_consensus_are_guarded_too(scheduled_case, board_people):
    with pytest.raises(ValidationError):
        services.opinion_save(
            case=scheduled_case, author=board_people["pathologist"], body="Ring me: 13812345678"
        )
    with pytest.raises(ValidationError) as error:
        services.consensus_save(
            case=scheduled_case,
            user=board_people["chair"],
            values={**FINAL, "summary_en": "Write to patient@example.com"},
        )
    assert "summary_en" in error.value.message_dict
    assert not Opinion.objects.exists() and not Consensus.objects.exists()


# Opinions: versions, and who writes them


def test_each_saved_opinion_is_a_new_version(scheduled_case, board_people, disciplines):
    author = board_people["pathologist"]
    first = services.opinion_save(case=scheduled_case, author=author, body="G2.")
    again = services.opinion_save(case=scheduled_case, author=author, body="G2.")
    assert again.version == 1  # nothing changed: no new version
    second = services.opinion_save(case=scheduled_case, author=author, body="G2, Ki-67 8%.")
    assert first.pk == second.pk
    assert second.version == 2
    assert [v.body for v in second.versions.order_by("version")] == ["G2.", "G2, Ki-67 8%."]
    assert second.discipline == disciplines["pathology"]
    assert second.body_html == "<p>G2, Ki-67 8%.</p>"


def test_opinion_markdown_is_sanitised(scheduled_case, board_people):
    opinion = services.opinion_save(
        case=scheduled_case,
        author=board_people["pathologist"],
        body="<script>alert(1)</script> **bold** [x](javascript:alert(1))",
    )
    assert "<script>" not in opinion.body_html
    assert 'href="javascript' not in opinion.body_html
    assert "<strong>bold</strong>" in opinion.body_html


def test_uninvited_physicians_write_no_opinion(scheduled_case, board_people):
    with pytest.raises(PermissionDenied):
        services.opinion_save(case=scheduled_case, author=board_people["outsider"], body="Mine")


def test_a_suspended_physician_writes_nothing(scheduled_case, board_people):
    author = board_people["pathologist"]
    author.suspended_until = timezone.now() + timedelta(days=1)
    author.save()
    with pytest.raises(PermissionDenied):
        services.opinion_save(case=scheduled_case, author=author, body="G2.")


# Consensus and freezing


def test_a_final_consensus_freezes_the_case(scheduled_case, board_people):
    services.opinion_save(case=scheduled_case, author=board_people["pathologist"], body="G2.")
    services.consensus_save(case=scheduled_case, user=board_people["recorder"], values=FINAL)
    consensus = services.consensus_save(
        case=scheduled_case, user=board_people["chair"], values=FINAL, final=True
    )
    assert consensus.is_final and consensus.version == 2
    assert consensus.disciplines == [{"en": "Pathology", "zh-hans": "病理科"}]
    with pytest.raises(ValidationError):
        services.opinion_save(case=scheduled_case, author=board_people["pathologist"], body="No.")
    with pytest.raises(ValidationError):
        services.consensus_save(case=scheduled_case, user=board_people["chair"], values=FINAL)
    with pytest.raises(ValidationError):
        services.case_edit(
            case=scheduled_case,
            editor=board_people["owner"],
            values=SUMMARY,
            disciplines=list(scheduled_case.disciplines_needed.all()),
        )
    with pytest.raises(ValidationError):
        services.case_schedule(case=scheduled_case, user=board_people["chair"], session=None)
    assert Opinion.objects.get().body == "G2."
    assert consensus.versions.count() == 2


def test_a_consensus_needs_a_recommendation_and_its_rationale(scheduled_case, board_people):
    with pytest.raises(ValidationError) as error:
        services.consensus_save(
            case=scheduled_case, user=board_people["chair"], values={**FINAL, "rationale": " "}
        )
    assert "rationale" in error.value.message_dict


def test_a_linked_case_is_final_only_with_words_for_the_patient(
    asked, patient, scheduled_case, board_people
):
    case, _question, consent = asked
    services.consent_decide(consent=consent, user=patient, give=True)
    services.case_schedule(case=case, user=board_people["owner"], session=scheduled_case.session)
    values = {**FINAL, "summary_en": "", "summary_zh": ""}
    with pytest.raises(ValidationError):
        services.consensus_save(case=case, user=board_people["chair"], values=values, final=True)
    services.consensus_save(case=case, user=board_people["chair"], values=FINAL, final=True)
    assert Notification.objects.filter(recipient=patient, verb=Verb.MDT_CONSENSUS).count() == 1


def test_consent_given_after_the_consensus_tells_the_asker(
    asked, patient, scheduled_case, board_people
):
    case, _question, consent = asked
    services.case_schedule(case=case, user=board_people["owner"], session=scheduled_case.session)
    services.consensus_save(case=case, user=board_people["chair"], values=FINAL, final=True)
    assert not Notification.objects.filter(verb=Verb.MDT_CONSENSUS).exists()
    services.consent_decide(consent=consent, user=patient, give=True)
    assert Notification.objects.filter(recipient=patient, verb=Verb.MDT_CONSENSUS).count() == 1


# Sessions and the agenda


def test_a_session_tells_the_physicians_it_invites_once(session_factory, board_people):
    session = session_factory()
    invited = Notification.objects.filter(verb=Verb.MDT_INVITED)
    # The chair made it: the recorder and the pathologist are told.
    assert set(invited.values_list("recipient", flat=True)) == {
        board_people["recorder"].pk,
        board_people["pathologist"].pk,
    }
    services.session_save(
        user=board_people["chair"],
        session=session,
        values={
            "title": "GEP-NET MDT (moved)",
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "submission_deadline": session.submission_deadline,
            "location": "",
            "chair": session.chair,
            "recorder": session.recorder,
        },
        invited=[board_people["pathologist"], board_people["outsider"]],
    )
    assert invited.count() == 3
    assert invited.filter(recipient=board_people["outsider"]).exists()


def test_a_session_needs_sensible_times(session_factory):
    with pytest.raises(ValidationError) as error:
        session_factory(deadline_in=timedelta(days=5))
    assert "submission_deadline" in error.value.message_dict


def test_owners_schedule_until_the_deadline_and_moderators_after(
    case_factory, session_factory, board_people
):
    session = session_factory(deadline_in=timedelta(hours=1))
    session.submission_deadline = timezone.now() - timedelta(minutes=1)
    session.save()
    case = case_factory()
    with pytest.raises(ValidationError):
        services.case_schedule(case=case, user=board_people["owner"], session=session)
    # The chair cannot read a case that is on none of their agendas.
    with pytest.raises(PermissionDenied):
        services.case_schedule(case=case, user=board_people["chair"], session=session)
    services.case_schedule(case=case, user=board_people["moderator"], session=session)
    case.refresh_from_db()
    assert case.session == session


# Follow-up


def test_the_owner_is_reminded_on_the_follow_up_day_once(scheduled_case, board_people):
    owner = board_people["owner"]
    services.follow_up_set(case=scheduled_case, user=owner, on=date(2031, 5, 1))
    assert services.follow_ups_send(today=date(2031, 4, 30)) == 0
    assert services.follow_ups_send(today=date(2031, 5, 1)) == 1
    assert services.follow_ups_send(today=date(2031, 5, 2)) == 0
    note = Notification.objects.get(verb=Verb.MDT_FOLLOW_UP)
    assert note.recipient == owner and note.url == scheduled_case.get_absolute_url()
    # A new date reminds again.
    services.follow_up_set(case=scheduled_case, user=owner, on=date(2031, 8, 1))
    assert services.follow_ups_send(today=date(2031, 8, 1)) == 1


def test_closed_cases_are_not_reminded_and_never_deleted(scheduled_case, board_people):
    services.follow_up_set(case=scheduled_case, user=board_people["owner"], on=date(2031, 5, 1))
    services.case_close(case=scheduled_case, user=board_people["owner"])
    assert services.follow_ups_send(today=date(2031, 6, 1)) == 0
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Case.objects.filter(pk=scheduled_case.pk).delete()


def test_the_follow_up_task_runs_on_the_queue_every_hour(scheduled_case, board_people):
    services.follow_up_set(
        case=scheduled_case, user=board_people["owner"], on=date.today() - timedelta(days=1)
    )
    assert mdt_follow_ups_send.enqueue().return_value == 1
    assert mdt_follow_ups_send.enqueue().return_value == 0
    from crontask import scheduler

    jobs = {job.name: job for job in scheduler.get_jobs()}
    assert "minute='17'" in str(jobs[mdt_follow_ups_send.name].trigger)


# Audit


def test_every_change_is_audited(asked, patient, scheduled_case, board_people):
    case, _question, consent = asked
    services.consent_decide(consent=consent, user=patient, give=True)
    services.case_schedule(case=case, user=board_people["owner"], session=scheduled_case.session)
    services.opinion_save(case=case, author=board_people["pathologist"], body="G2.")
    services.consensus_save(case=case, user=board_people["recorder"], values=FINAL)
    services.consensus_save(case=case, user=board_people["chair"], values=FINAL, final=True)
    services.follow_up_set(case=case, user=board_people["owner"], on=date(2031, 1, 1))
    services.case_close(case=case, user=board_people["moderator"])
    actions = list(case.audit_events.order_by("pk").values_list("action", "actor__name"))
    assert actions == [
        ("opened", "Dr. Owner"),
        ("consent_asked", "Dr. Owner"),
        ("consent_given", "Patient Zhang"),
        ("scheduled", "Dr. Owner"),
        ("opinion_saved", "Dr. Path"),
        ("consensus_saved", "Dr. Recorder"),
        ("consensus_final", "Dr. Chair"),
        ("follow_up_set", "Dr. Owner"),
        ("closed", "Moderator Lin"),
    ]


def test_answering_the_consent_takes_it_off_the_bell(asked, patient):
    _case, _question, consent = asked
    services.consent_decide(consent=consent, user=patient, give=True)
    assert Notification.objects.get(recipient=patient, verb=Verb.MDT_CONSENT).read_at is not None
