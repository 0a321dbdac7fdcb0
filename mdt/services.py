"""Every write of the MDT online: cases, consent, sessions, opinions, the consensus, follow-up.

Each service checks permission itself (``mdt.access``), writes inside one
transaction with its audit event, and tells the open case pages after the
commit (``mdt.live``). Writes that race the consensus being made final lock
the case row first (``select_for_update``), so an opinion saved in the same
moment is either in the frozen record or refused.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Discipline, User, user_is_verified_doctor
from core.markdown import render_markdown
from duty.services import department_day
from forum import listcache
from forum.models import PostState, Question
from mdt import live
from mdt.access import case_access, may_use_mdt, session_roles
from mdt.models import (
    AuditEvent,
    Case,
    Consensus,
    ConsensusVersion,
    Consent,
    Opinion,
    OpinionVersion,
    Session,
)
from moderation.detectors import find_personal_data
from notifications.models import Notification, Verb
from notifications.services import notifications_mark_read, notify

CONSENSUS_FIELDS = (
    "recommendation",
    "rationale",
    "references",
    "dissent",
    "summary_en",
    "summary_zh",
)


def audit(*, case: Case, actor: User | None, action: str, **detail) -> AuditEvent:
    return AuditEvent.objects.create(case=case, actor=actor, action=action, detail=detail)


def _writer(user) -> None:
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    if user.is_suspended:
        raise PermissionDenied(_("While your account is suspended you cannot change MDT cases."))


def _physician(user) -> None:
    _writer(user)
    if not user_is_verified_doctor(user):
        raise PermissionDenied(_("Only verified physicians can do this."))


def personal_data_errors(values: dict[str, str], *, names: list[str] = ()) -> dict[str, list[str]]:
    """Each field that holds a phone number, ID number, e-mail address or one of ``names``."""
    errors = {}
    for field, text in values.items():
        if not text:
            continue
        found = [finding.text for finding in find_personal_data(text)]
        lowered = text.lower()
        found += [name for name in names if name and name.lower() in lowered]
        if found:
            errors[field] = [
                _(
                    "Remove what could identify the patient (%(found)s): MDT cases are "
                    "de-identified."
                )
                % {"found": ", ".join(dict.fromkeys(found))}
            ]
    return errors


def _asker_names(question: Question | None) -> list[str]:
    """What of the asker must not be copied into a case: their display name and e-mail's name."""
    if question is None:
        return []
    author = question.author
    names = [author.name.strip(), author.email.split("@", 1)[0]]
    # A one-letter or two-letter name would match everywhere; the e-mail guard catches addresses.
    return [name for name in names if len(name) >= 3]


def _guard(values: dict[str, str], *, question: Question | None = None) -> None:
    errors = personal_data_errors(values, names=_asker_names(question))
    if errors:
        raise ValidationError(errors)


def _clean(values: dict, fields) -> dict[str, str]:
    return {field: (values.get(field) or "").strip() for field in fields}


def case_open(
    *,
    owner: User,
    values: dict,
    disciplines: list[Discipline],
    question: Question | None = None,
) -> Case:
    """A verified physician opens a de-identified case, from ``question`` or on its own.

    A case from a question asks the asker's consent; the case refers to the
    question only once they give it.
    """
    _physician(owner)
    values = _clean(values, Case.SUMMARY_FIELDS)
    if question is not None:
        if not question.is_published or question.deleted_at is not None:
            raise ValidationError(_("This question is not published: it cannot be discussed."))
        if question.author_id == owner.pk:
            raise ValidationError(_("You cannot ask yourself for consent."))
    _guard(values, question=question)
    if not disciplines:
        raise ValidationError({"disciplines_needed": [_("Choose the disciplines the case needs.")]})
    case = Case(owner=owner, **values)
    case.full_clean(exclude=["owner", "session", "question", "disciplines_needed"])
    with transaction.atomic():
        case.save()
        case.disciplines_needed.set(disciplines)
        audit(case=case, actor=owner, action=AuditEvent.Action.OPENED)
        if question is not None:
            _consent_ask(case=case, question=question, asked_by=owner)
    return case


def _consent_ask(*, case: Case, question: Question, asked_by: User) -> Consent:
    consent = Consent.objects.create(case=case, question=question, asked_by=asked_by)
    audit(case=case, actor=asked_by, action=AuditEvent.Action.CONSENT_ASKED, question=question.pk)
    notify(
        recipients=[question.author],
        verb=Verb.MDT_CONSENT,
        url=question.get_absolute_url() + "#mdt-consent",
        data={"actor": asked_by.name, "title": question.title},
        actor=asked_by,
    )
    return consent


def case_edit(*, case: Case, editor: User, values: dict, disciplines: list[Discipline]) -> Case:
    """The owner or a moderator corrects the summary, until the consensus is final."""
    _writer(editor)
    with transaction.atomic():
        case = _locked(case)
        if not case_access(case, editor).edits_summary:
            raise PermissionDenied
        _open_for_changes(case)
        values = _clean(values, Case.SUMMARY_FIELDS)
        _guard(values, question=case.question)
        if not disciplines:
            raise ValidationError(
                {"disciplines_needed": [_("Choose the disciplines the case needs.")]}
            )
        changed = [field for field, value in values.items() if getattr(case, field) != value]
        for field, value in values.items():
            setattr(case, field, value)
        case.full_clean(exclude=["owner", "session", "question", "disciplines_needed"])
        case.save()
        case.disciplines_needed.set(disciplines)
        audit(case=case, actor=editor, action=AuditEvent.Action.EDITED, fields=changed)
    return case


def _locked(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("session", "question__author")
        .get(pk=case.pk)
    )


def _final_consensus(case: Case) -> Consensus | None:
    return Consensus.objects.filter(case=case, final_at__isnull=False).first()


def _open_for_changes(case: Case) -> None:
    if case.is_closed:
        raise ValidationError(_("This case is closed."))
    if _final_consensus(case) is not None:
        raise ValidationError(_("The consensus is final: the case is frozen."))


def consent_decide(*, consent: Consent, user: User, give: bool) -> Consent:
    """The asker gives or refuses consent; a consent given can be withdrawn later.

    Given, the case refers to the question, and if its consensus is already
    final the block appears on the question and the asker is told.
    """
    if not user.is_authenticated or consent.question.author_id != user.pk:
        raise PermissionDenied
    with transaction.atomic():
        consent = Consent.objects.select_for_update().select_related("case").get(pk=consent.pk)
        if consent.state == Consent.State.REFUSED:
            raise ValidationError(_("You have already refused; nothing was linked."))
        if consent.state == Consent.State.GIVEN and give:
            return consent
        case = _locked(consent.case)
        consent.state = Consent.State.GIVEN if give else Consent.State.REFUSED
        consent.decided_at = timezone.now()
        consent.save(update_fields=["state", "decided_at"])
        if give:
            case.question = consent.question
        elif case.question_id == consent.question_id:
            case.question = None
        case.save(update_fields=["question", "updated_at"])
        audit(
            case=case,
            actor=user,
            action=AuditEvent.Action.CONSENT_GIVEN if give else AuditEvent.Action.CONSENT_REFUSED,
        )
        # Answered: the request no longer counts on the bell.
        asked = Notification.objects.filter(
            recipient=user,
            verb=Verb.MDT_CONSENT,
            url__startswith=consent.question.get_absolute_url(),
        ).values_list("pk", flat=True)
        notifications_mark_read(user=user, ids=list(asked))
        final = _final_consensus(case)
        if final is not None:
            listcache.invalidate()
            if give:
                _tell_asker(case=case, consensus=final)
    return consent


def session_save(
    *,
    user: User,
    values: dict,
    invited: list[User],
    session: Session | None = None,
) -> Session:
    """Create a session (verified physicians, moderators) or change one (its chair, moderators).

    Newly invited physicians, chair and recorder are told; anyone whose
    invitation ends has their open case pages closed.
    """
    _writer(user)
    if not may_use_mdt(user):
        raise PermissionDenied
    if session is not None and not session_roles(session, user).leads:
        raise PermissionDenied
    errors = {}
    for field in ("chair", "recorder"):
        if not user_is_verified_doctor(values[field]):
            errors[field] = [_("Choose a verified physician.")]
    starts_at, ends_at = values["starts_at"], values["ends_at"]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The session must end after it starts.")]
    if values["submission_deadline"] > starts_at:
        errors["submission_deadline"] = [_("The deadline must be before the session starts.")]
    if errors:
        raise ValidationError(errors)
    invited = [person for person in invited if user_is_verified_doctor(person)]
    with transaction.atomic():
        if session is None:
            session = Session(created_by=user)
            before = set()
        else:
            session = Session.objects.select_for_update().get(pk=session.pk)
            before = set(session.invited.values_list("pk", flat=True)) | {
                session.chair_id,
                session.recorder_id,
            }
            session.sequence += 1
        for field in ("title", "starts_at", "ends_at", "submission_deadline", "location"):
            setattr(session, field, values[field])
        session.chair = values["chair"]
        session.recorder = values["recorder"]
        session.full_clean(exclude=["chair", "recorder", "created_by"])
        session.save()
        session.invited.set(invited)
        now = {person.pk for person in invited} | {session.chair_id, session.recorder_id}
        newcomers = [
            person
            for person in {*invited, session.chair, session.recorder}
            if person.pk not in before
        ]
        notify(
            recipients=newcomers,
            verb=Verb.MDT_INVITED,
            url=session.get_absolute_url(),
            data={
                "title": session.title,
                "starts": timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M"),
            },
            actor=user,
        )
        gone = before - now
        if gone:
            case_ids = list(session.cases.values_list("pk", flat=True))
            transaction.on_commit(lambda: live.access_changed(case_ids, user_ids=gone))
    return session


def case_schedule(*, case: Case, user: User, session: Session | None) -> Case:
    """Put the case on ``session``'s agenda, or take it off with None.

    Its owner may until the session's submission deadline; moderators, and
    the chair of a session the case is already on, at any time.
    """
    _writer(user)
    with transaction.atomic():
        case = _locked(case)
        access = case_access(case, user)
        if not access.readable:
            raise PermissionDenied
        _open_for_changes(case)
        if session is not None:
            leads_new = session_roles(session, user).leads
            if not (access.session.leads or access.owner or leads_new):
                raise PermissionDenied
            if session.ends_at <= timezone.now():
                raise ValidationError(_("That session is over: choose a coming one."))
            if not leads_new and not session.accepts_cases:
                raise ValidationError(
                    _("The deadline for that session's cases has passed: ask its chair.")
                )
        elif not access.schedules:
            raise PermissionDenied
        previous = case.session
        if previous is not None and previous.pk == getattr(session, "pk", None):
            return case
        case.session = session
        case.save(update_fields=["session", "updated_at"])
        if session is None:
            audit(case=case, actor=user, action=AuditEvent.Action.UNSCHEDULED)
        else:
            audit(case=case, actor=user, action=AuditEvent.Action.SCHEDULED, session=session.pk)
        if previous is not None:
            # People of the earlier session lose the case: their open pages close.
            transaction.on_commit(lambda: live.access_changed([case.pk]))
    return case


def opinion_save(*, case: Case, author: User, body: str) -> Opinion:
    """An invited physician writes or revises their opinion; every version is kept."""
    _writer(author)
    body = (body or "").strip()
    with transaction.atomic():
        case = _locked(case)
        access = case_access(case, author)
        if not access.readable:
            raise PermissionDenied
        if not access.writes_opinion:
            raise PermissionDenied(_("Only the case's invited physicians write opinions."))
        _open_for_changes(case)
        if not body:
            raise ValidationError({"body": [_("Write your opinion.")]})
        _guard({"body": body}, question=case.question)
        discipline_id = author.physician_profile.discipline_id
        opinion = Opinion.objects.filter(case=case, author=author).first()
        now = timezone.now()
        if opinion is None:
            opinion = Opinion(case=case, author=author, created_at=now, version=0)
        elif opinion.body == body:
            return opinion
        opinion.version += 1
        opinion.body = body
        opinion.body_html = render_markdown(body)
        opinion.discipline_id = discipline_id
        opinion.updated_at = now
        opinion.full_clean(exclude=["case", "author", "discipline"])
        opinion.save()
        OpinionVersion.objects.create(opinion=opinion, version=opinion.version, body=body)
        audit(
            case=case,
            actor=author,
            action=AuditEvent.Action.OPINION_SAVED,
            opinion=opinion.pk,
            version=opinion.version,
        )
        transaction.on_commit(lambda: live.broadcast_opinion(opinion.pk))
    return opinion


def consensus_save(*, case: Case, user: User, values: dict, final: bool = False) -> Consensus:
    """The chair or recorder writes the consensus; ``final`` freezes it and the opinions.

    Made final on a case linked to a question, the asker is told and the
    question shows the plain-language recommendation.
    """
    _writer(user)
    values = _clean(values, CONSENSUS_FIELDS)
    with transaction.atomic():
        case = _locked(case)
        access = case_access(case, user)
        if not access.readable:
            raise PermissionDenied
        if not access.writes_consensus:
            raise PermissionDenied(_("Only the session's chair or recorder writes the consensus."))
        if case.is_closed:
            raise ValidationError(_("This case is closed."))
        consensus = Consensus.objects.select_for_update().filter(case=case).first()
        if consensus is not None and consensus.is_final:
            raise ValidationError(_("The consensus is final: the case is frozen."))
        errors = {}
        for field in ("recommendation", "rationale"):
            if not values[field]:
                errors[field] = [_("This field is required.")]
        if final and case.question_id and not (values["summary_en"] or values["summary_zh"]):
            errors["summary_zh"] = [
                _(
                    "Write the recommendation for the patient, in Chinese or English, before it is final."
                )
            ]
        errors |= personal_data_errors(values, names=_asker_names(case.question))
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        if consensus is None:
            consensus = Consensus(case=case, version=0)
        consensus.version += 1
        for field, value in values.items():
            setattr(consensus, field, value)
        consensus.recommendation_html = render_markdown(values["recommendation"])
        consensus.rationale_html = render_markdown(values["rationale"])
        consensus.updated_by = user
        consensus.updated_at = now
        if final:
            consensus.final_at = now
            consensus.final_by = user
            consensus.disciplines = _disciplines_of_opinions(case)
        consensus.full_clean(exclude=["case", "updated_by", "final_by", "disciplines"])
        consensus.save()
        ConsensusVersion.objects.create(
            consensus=consensus,
            version=consensus.version,
            data={**values, "final": final},
            author=user,
        )
        audit(
            case=case,
            actor=user,
            action=AuditEvent.Action.CONSENSUS_FINAL
            if final
            else AuditEvent.Action.CONSENSUS_SAVED,
            version=consensus.version,
        )
        if final and case.question_id:
            _tell_asker(case=case, consensus=consensus)
            listcache.invalidate()
        transaction.on_commit(lambda: live.broadcast_consensus(case.pk))
    return consensus


def _disciplines_of_opinions(case: Case) -> list[dict[str, str]]:
    disciplines = Discipline.objects.filter(
        pk__in=Opinion.objects.filter(case=case).values("discipline_id")
    ).order_by("position", "name")
    return [{"en": item.name, "zh-hans": item.name_zh or item.name} for item in disciplines]


def _tell_asker(*, case: Case, consensus: Consensus) -> None:
    question = case.question
    if question is None or question.state != PostState.PUBLISHED or question.deleted_at:
        return
    notify(
        recipients=[question.author],
        verb=Verb.MDT_CONSENSUS,
        url=question.get_absolute_url() + "#mdt-consensus",
        data={"title": question.title},
        actor=consensus.final_by,
    )


def follow_up_set(*, case: Case, user: User, on: date | None) -> Case:
    """The owner, the chair or a moderator sets (or clears) the day the owner is reminded."""
    _writer(user)
    with transaction.atomic():
        case = _locked(case)
        access = case_access(case, user)
        if not access.readable:
            raise PermissionDenied
        if not access.schedules:
            raise PermissionDenied
        if case.is_closed:
            raise ValidationError(_("This case is closed."))
        case.follow_up_on = on
        case.follow_up_reminded_at = None
        case.save(update_fields=["follow_up_on", "follow_up_reminded_at", "updated_at"])
        audit(
            case=case,
            actor=user,
            action=AuditEvent.Action.FOLLOW_UP_SET,
            on=on.isoformat() if on else None,
        )
    return case


def case_close(*, case: Case, user: User) -> Case:
    """The owner or a moderator closes a case; it stays readable and is never deleted."""
    _writer(user)
    with transaction.atomic():
        case = _locked(case)
        access = case_access(case, user)
        if not access.readable:
            raise PermissionDenied
        if not (access.owner or access.session.moderator):
            raise PermissionDenied
        if case.is_closed:
            return case
        case.closed_at = timezone.now()
        case.save(update_fields=["closed_at", "updated_at"])
        audit(case=case, actor=user, action=AuditEvent.Action.CLOSED)
    return case


def follow_ups_send(*, today: date | None = None) -> int:
    """Remind each case's owner on its follow-up day, once; the cron task calls it."""
    today = today or department_day()
    sent = 0
    due = Case.objects.filter(
        follow_up_on__lte=today, follow_up_reminded_at__isnull=True, closed_at__isnull=True
    ).values_list("pk", flat=True)
    for case_id in list(due[:500]):
        with transaction.atomic():
            # Claimed by a conditional update: two workers never remind twice.
            claimed = Case.objects.filter(pk=case_id, follow_up_reminded_at__isnull=True).update(
                follow_up_reminded_at=timezone.now()
            )
            if not claimed:
                continue
            case = Case.objects.select_related("owner").get(pk=case_id)
            notify(
                recipients=[case.owner],
                verb=Verb.MDT_FOLLOW_UP,
                url=case.get_absolute_url(),
                data={"title": case.title},
                in_worker=True,
            )
            sent += 1
    return sent


def case_viewed(*, case: Case, user: User, exported: bool = False) -> None:
    audit(
        case=case,
        actor=user,
        action=AuditEvent.Action.EXPORTED if exported else AuditEvent.Action.VIEWED,
    )
