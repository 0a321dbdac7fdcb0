"""Who may read and do what on an MDT case or session (SPEC: invited physicians, the chair, moderators).

One place for the rule, used by the pages, the socket and the services. A
person without access is told nothing: the pages answer 404, as if the
case did not exist, and the socket closes with 4404.
"""

from dataclasses import dataclass

from accounts.models import user_is_verified_doctor
from mdt.models import Case, Session


def is_moderator(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_moderator)


def may_use_mdt(user) -> bool:
    """The board opens to verified physicians and moderators only."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_moderator or user_is_verified_doctor(user))
    )


@dataclass(frozen=True)
class SessionRoles:
    chair: bool = False
    recorder: bool = False
    invited: bool = False
    moderator: bool = False

    @property
    def leads(self) -> bool:
        """The chair and moderators run the session: agenda, invitations, times."""
        return self.chair or self.moderator

    @property
    def records(self) -> bool:
        """The chair and the recorder write the consensus."""
        return self.chair or self.recorder


def session_roles(session: Session | None, user) -> SessionRoles:
    """One query at most: the invitation, looked up only when the user is not chair or recorder."""
    if session is None or not user.is_authenticated or not user.is_active:
        return SessionRoles(moderator=is_moderator(user))
    chair = session.chair_id == user.pk
    recorder = session.recorder_id == user.pk
    invited = chair or recorder or session.invited.filter(pk=user.pk).exists()
    return SessionRoles(
        chair=chair, recorder=recorder, invited=invited, moderator=is_moderator(user)
    )


@dataclass(frozen=True)
class CaseAccess:
    """What one person may do on one case; ``readable`` False means a 404."""

    owner: bool
    session: SessionRoles
    physician: bool

    @property
    def readable(self) -> bool:
        return self.owner or self.session.invited or self.session.moderator

    @property
    def writes_opinion(self) -> bool:
        # Verified physicians of the board; a moderator who is not one reads and keeps order.
        return self.physician and (self.owner or self.session.invited)

    @property
    def edits_summary(self) -> bool:
        return self.owner or self.session.moderator

    @property
    def schedules(self) -> bool:
        return self.owner or self.session.leads

    @property
    def writes_consensus(self) -> bool:
        return self.physician and self.session.records


def case_access(case: Case, user) -> CaseAccess:
    """The case must come with its session (``select_related``); one query at most."""
    if not user.is_authenticated or not user.is_active:
        return CaseAccess(owner=False, session=SessionRoles(), physician=False)
    return CaseAccess(
        owner=case.owner_id == user.pk,
        session=session_roles(case.session, user),
        physician=user_is_verified_doctor(user) and not user.is_suspended,
    )


def session_readable(session: Session, user, roles: SessionRoles | None = None) -> bool:
    """The chair, recorder, invited physicians, moderators and owners of cases on its agenda."""
    roles = roles or session_roles(session, user)
    if roles.invited or roles.moderator:
        return True
    if not user.is_authenticated:
        return False
    return session.created_by_id == user.pk or session.cases.filter(owner=user).exists()
