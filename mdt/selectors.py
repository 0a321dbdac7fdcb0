"""Every read of the MDT online, with access applied once (``mdt.access``).

Pages get what they show in a fixed number of queries, however many
opinions, cases or invitations there are.
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone

from accounts.models import Discipline, User
from duty.services import department_day
from forum.models import Question
from mdt.access import (
    CaseAccess,
    SessionRoles,
    case_access,
    may_use_mdt,
    session_readable,
    session_roles,
)
from mdt.models import AuditEvent, Case, Consensus, Consent, Opinion, Session

BOARD_CLOSED_SHOWN = 20


def board_member_only(viewer) -> None:
    if not may_use_mdt(viewer):
        raise Http404


def _cases():
    return Case.objects.select_related(
        "owner__physician_profile",
        "session__chair",
        "session__recorder",
        "consensus__updated_by",
        "question",
    )


def case_get_for_viewer(*, pk, viewer) -> tuple[Case, CaseAccess]:
    """The case and what ``viewer`` may do on it; a 404 for anyone who may not read it."""
    board_member_only(viewer)
    case = _cases().filter(pk=pk).first()
    if case is None:
        raise Http404
    access = case_access(case, viewer)
    if not access.readable:
        raise Http404
    return case, access


def case_readable(*, pk, viewer) -> bool:
    try:
        case_get_for_viewer(pk=pk, viewer=viewer)
    except Http404:
        return False
    return True


def consensus_of(case: Case) -> Consensus | None:
    """The case's consensus from the ``select_related`` cache: no query."""
    try:
        return case.consensus
    except Consensus.DoesNotExist:
        return None


def _opinions():
    return Opinion.objects.select_related(
        "author", "author__physician_profile", "discipline"
    ).order_by("created_at", "pk")


@dataclass
class CasePage:
    case: Case
    access: CaseAccess
    consensus: Consensus | None
    opinions: list[Opinion]
    needed: list[Discipline]
    given: set[str]
    invited: list[User]
    consents: list[Consent]
    own_opinion: Opinion | None = None
    sessions: list[Session] = field(default_factory=list)
    stage: str = ""

    @property
    def stage_label(self) -> str:
        return Case.Stage(self.stage).label

    @property
    def consensus_stage_label(self) -> str:
        """What the stage becomes when the consensus is made final (the page's script shows it)."""
        return Case.Stage.CONSENSUS.label

    @property
    def summary_rows(self) -> list[tuple[str, str]]:
        return [
            (Case._meta.get_field(name).verbose_name, getattr(self.case, name))
            for name in Case.SUMMARY_FIELDS
            if name != "title"
        ]

    @property
    def is_frozen(self) -> bool:
        return self.case.is_closed or (self.consensus is not None and self.consensus.is_final)

    @property
    def uncovered(self) -> list[Discipline]:
        """Needed disciplines that neither the owner nor an invited physician brings."""
        brought = {
            person.physician_profile.discipline_id
            for person in [self.case.owner, *self.invited]
            if getattr(person, "physician_profile", None) is not None
        }
        return [discipline for discipline in self.needed if discipline.pk not in brought]


def _session_people(session: Session) -> list[User]:
    """The session's invited physicians, chair and recorder, with their disciplines."""
    return list(
        User.objects.filter(
            Q(mdt_sessions_invited=session.pk) | Q(pk__in=[session.chair_id, session.recorder_id])
        )
        .select_related("physician_profile__discipline")
        .distinct()
        .order_by("name", "pk")
    )


def case_page(*, case: Case, access: CaseAccess, viewer) -> CasePage:
    """Six queries, or seven with the sessions to schedule into, whatever the number of opinions."""
    opinions = list(_opinions().filter(case=case))
    needed = list(case.disciplines_needed.all())
    invited = _session_people(case.session) if case.session_id is not None else []
    consents = list(Consent.objects.filter(case=case).select_related("question"))
    consensus = consensus_of(case)
    page = CasePage(
        case=case,
        access=access,
        consensus=consensus,
        opinions=opinions,
        needed=needed,
        given={opinion.discipline.slug for opinion in opinions if opinion.discipline},
        invited=invited,
        consents=consents,
        own_opinion=next((o for o in opinions if o.author_id == viewer.pk), None),
        stage=case.stage_on(today=department_day(), consensus=consensus),
    )
    if access.schedules and not page.is_frozen:
        page.sessions = schedulable_sessions(viewer=viewer, access=access)
    return page


def schedulable_sessions(*, viewer, access: CaseAccess) -> list[Session]:
    """Coming sessions the viewer may put a case into: open ones, and any they lead."""
    now = timezone.now()
    sessions = Session.objects.filter(ends_at__gt=now)
    if not access.session.moderator:
        sessions = sessions.filter(Q(submission_deadline__gt=now) | Q(chair=viewer))
    return list(sessions.order_by("starts_at", "pk")[:50])


def opinion_for_broadcast(*, pk) -> Opinion:
    return _opinions().get(pk=pk)


def disciplines_given(*, case_id) -> set[str]:
    return set(
        Opinion.objects.filter(case_id=case_id, discipline__isnull=False).values_list(
            "discipline__slug", flat=True
        )
    )


def consensus_for_broadcast(*, case_id) -> Consensus | None:
    return (
        Consensus.objects.filter(case_id=case_id).select_related("updated_by", "final_by").first()
    )


def opinion_versions(*, opinion: Opinion):
    return opinion.versions.order_by("-version")


def visible_cases(viewer):
    """The cases ``viewer`` may read: all for moderators, else their own and their sessions'."""
    cases = _cases()
    if viewer.is_moderator:
        return cases
    sessions = Session.objects.filter(
        Q(chair=viewer) | Q(recorder=viewer) | Q(invited=viewer)
    ).values("pk")
    return cases.filter(Q(owner=viewer) | Q(session__in=sessions))


@dataclass
class Board:
    columns: list[tuple[str, str, list[Case]]]
    sessions: list[Session]
    closed: list[Case]


def board(*, viewer) -> Board:
    """Open cases by stage, the latest closed ones, and the coming sessions: three queries."""
    board_member_only(viewer)
    today = department_day()
    columns = {stage: [] for stage in Case.Stage.values if stage != Case.Stage.CLOSED}
    for case in (
        visible_cases(viewer).filter(closed_at__isnull=True).order_by("-updated_at", "-pk")[:200]
    ):
        columns[case.stage_on(today=today, consensus=consensus_of(case))].append(case)
    closed = list(
        visible_cases(viewer)
        .filter(closed_at__isnull=False)
        .order_by("-closed_at")[:BOARD_CLOSED_SHOWN]
    )
    labels = dict(Case.Stage.choices)
    return Board(
        columns=[(stage, labels[stage], cases) for stage, cases in columns.items()],
        sessions=list(visible_sessions(viewer).filter(ends_at__gt=timezone.now())[:20]),
        closed=closed,
    )


def visible_sessions(viewer):
    sessions = Session.objects.select_related("chair", "recorder").order_by("starts_at", "pk")
    if viewer.is_moderator:
        return sessions
    ids = Session.objects.filter(
        Q(chair=viewer)
        | Q(recorder=viewer)
        | Q(invited=viewer)
        | Q(created_by=viewer)
        | Q(cases__owner=viewer)
    ).values("pk")
    return sessions.filter(pk__in=ids)


def session_get_for_viewer(*, pk, viewer) -> tuple[Session, SessionRoles]:
    board_member_only(viewer)
    session = Session.objects.select_related("chair", "recorder").filter(pk=pk).first()
    if session is None:
        raise Http404
    roles = session_roles(session, viewer)
    if not session_readable(session, viewer, roles):
        raise Http404
    return session, roles


@dataclass
class AgendaItem:
    case: Case
    needed: list[Discipline]
    given: set[str]
    readable: bool
    owner_discipline_id: int | None = None


@dataclass
class SessionPage:
    session: Session
    roles: SessionRoles
    invited: list[User]
    agenda: list[AgendaItem]
    disciplines_present: set[int]


def session_page(*, session: Session, roles: SessionRoles, viewer) -> SessionPage:
    """Four queries, whatever the agenda's length."""
    invited = _session_people(session)
    cases = list(
        session.cases.select_related("owner__physician_profile", "consensus")
        .prefetch_related(
            "disciplines_needed",
            Prefetch("opinions", queryset=Opinion.objects.select_related("discipline")),
        )
        .order_by("created_at", "pk")
    )
    # Everyone on the session reads its cases; an owner who is not invited reads only their own.
    agenda = [
        AgendaItem(
            case=case,
            needed=list(case.disciplines_needed.all()),
            given={o.discipline.slug for o in case.opinions.all() if o.discipline},
            readable=roles.invited or roles.moderator or case.owner_id == viewer.pk,
            owner_discipline_id=getattr(
                getattr(case.owner, "physician_profile", None), "discipline_id", None
            ),
        )
        for case in cases
    ]
    present = {
        person.physician_profile.discipline_id
        for person in invited
        if getattr(person, "physician_profile", None) is not None
    }
    return SessionPage(
        session=session, roles=roles, invited=invited, agenda=agenda, disciplines_present=present
    )


def audit_for_case(*, case: Case, limit: int = 500):
    return (
        AuditEvent.objects.filter(case=case)
        .select_related("actor")
        .order_by("-created_at", "-pk")[:limit]
    )


def physicians():
    """Verified physicians for the session form's choices, with their disciplines."""
    return (
        User.objects.filter(
            is_active=True,
            physician_profile__status="verified",
        )
        .select_related("physician_profile__discipline")
        .order_by("name", "pk")
    )


@dataclass
class QuestionMdt:
    consensus: Consensus | None
    consents: list[Consent]


def for_question_page(*, question: Question, viewer, is_asker: bool) -> QuestionMdt | None:
    """The MDT block of a question page: one query, two for the asker (their consent requests)."""
    consensus = (
        Consensus.objects.filter(case__question=question, final_at__isnull=False)
        .order_by("-final_at")
        .first()
    )
    consents = []
    if is_asker:
        consents = list(
            Consent.objects.filter(
                question=question, state__in=[Consent.State.PENDING, Consent.State.GIVEN]
            )
            .select_related("asked_by")
            .order_by("asked_at")
        )
    if consensus is None and not consents:
        return None
    return QuestionMdt(consensus=consensus, consents=consents)


def consent_get_for_asker(*, pk, user) -> Consent:
    consent = Consent.objects.select_related("question", "case").filter(pk=pk).first()
    if consent is None or not user.is_authenticated or consent.question.author_id != user.pk:
        raise Http404
    return consent


def question_for_case(*, pk, viewer) -> Question:
    """The published question a physician opens a case from, or a 404."""
    question = (
        Question.objects.visible_to(viewer)
        .filter(pk=pk, deleted_at__isnull=True)
        .select_related("author")
        .first()
    )
    if question is None or not question.is_published:
        raise Http404
    return question
