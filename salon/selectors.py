"""Reads of the salon, shaped for each page, with visibility applied once."""

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import User
from salon.models import RSVP, Event, LiveQuestion, Vote, user_is_organiser

PAST_EVENTS_SHOWN = 12


def _with_hosts(events: QuerySet[Event]) -> QuerySet[Event]:
    hosts = User.objects.select_related("physician_profile").order_by("name", "pk")
    return events.prefetch_related(Prefetch("hosts", queryset=hosts))


def event_list_upcoming(*, now=None) -> QuerySet[Event]:
    """Published and cancelled events that are not over, soonest first, hosts loaded."""
    return _with_hosts(
        Event.objects.listed().upcoming(now).defer("description").order_by("starts_at", "pk")
    )


def event_list_past(*, limit: int = PAST_EVENTS_SHOWN, now=None) -> QuerySet[Event]:
    """Published events that are over, latest first, hosts loaded."""
    return _with_hosts(
        Event.objects.published().past(now).defer("description").order_by("-starts_at", "-pk")
    )[:limit]


def event_list_drafts(*, viewer) -> QuerySet[Event]:
    """Drafts, for organisers only; nobody else sees them anywhere."""
    if not user_is_organiser(viewer):
        return Event.objects.none()
    return _with_hosts(
        Event.objects.filter(state=Event.State.DRAFT).defer("description").order_by("starts_at")
    )


HOME_EVENTS = 3


def _home_events() -> QuerySet[Event]:
    return Event.objects.published().upcoming().order_by("starts_at", "pk")


def event_list_for_home(*, limit: int = HOME_EVENTS) -> list[Event]:
    """The next few published events, for the home page."""
    return list(_home_events().defer("description", "description_html")[:limit])


def event_ids_for_home() -> list[int]:
    """The ids of the events ``event_list_for_home`` lists now, in one query."""
    return list(_home_events().values_list("pk", flat=True)[:HOME_EVENTS])


def rsvp_statuses(*, viewer, events) -> dict[int, str]:
    """The viewer's active RSVP status for each event, in one query."""
    if not viewer.is_authenticated:
        return {}
    ids = [event.pk for event in events]
    if not ids:
        return {}
    return dict(
        RSVP.objects.filter(user=viewer, event_id__in=ids)
        .exclude(status=RSVP.Status.CANCELLED)
        .values_list("event_id", "status")
    )


def event_get_for_viewer(*, pk: int, viewer) -> Event:
    """The event with its hosts, or 404; drafts exist only for organisers."""
    events = _with_hosts(Event.objects.select_related("category"))
    if not user_is_organiser(viewer):
        events = events.listed()
    try:
        return events.get(pk=pk)
    except Event.DoesNotExist:
        raise Http404 from None


def _is_host(event: Event, viewer) -> bool:
    """From the prefetched hosts: no query."""
    return viewer.is_authenticated and any(host.pk == viewer.pk for host in event.hosts.all())


@dataclass
class EventPage:
    event: Event
    rsvp: RSVP | None = None
    is_organiser: bool = False
    is_host: bool = False
    # 1 for the first person waiting.
    waitlist_place: int | None = None

    @property
    def is_confirmed(self) -> bool:
        return self.rsvp is not None and self.rsvp.status == RSVP.Status.CONFIRMED

    @property
    def is_waitlisted(self) -> bool:
        return self.rsvp is not None and self.rsvp.status == RSVP.Status.WAITLISTED

    @property
    def shows_online_url(self) -> bool:
        """The meeting link is for confirmed attendees, hosts and organisers only."""
        return bool(self.event.online_url) and (
            self.is_confirmed or self.is_host or self.is_organiser
        )

    @property
    def can_enter_room(self) -> bool:
        return self.event.is_published and (self.is_confirmed or self.is_host or self.is_organiser)

    @property
    def can_rsvp(self) -> bool:
        return self.event.is_published and not self.event.is_past


def event_page(*, event: Event, viewer) -> EventPage:
    """What the event page shows the viewer, in a fixed number of queries."""
    page = EventPage(
        event=event, is_organiser=user_is_organiser(viewer), is_host=_is_host(event, viewer)
    )
    if viewer.is_authenticated:
        page.rsvp = (
            RSVP.objects.filter(event=event, user=viewer)
            .exclude(status=RSVP.Status.CANCELLED)
            .first()
        )
        if page.is_waitlisted:
            page.waitlist_place = (
                RSVP.objects.filter(
                    event=event, status=RSVP.Status.WAITLISTED, position__lt=page.rsvp.position
                ).count()
                + 1
            )
    return page


@dataclass
class AttendeeList:
    confirmed: list[RSVP]
    waitlisted: list[RSVP]
    cancelled: int


def attendee_list(*, event: Event) -> AttendeeList:
    """Confirmed attendees by sign-up time, then the waitlist in promotion order."""
    rsvps = list(
        RSVP.objects.filter(event=event).select_related("user").order_by("created_at", "pk")
    )
    waitlisted = [rsvp for rsvp in rsvps if rsvp.status == RSVP.Status.WAITLISTED]
    waitlisted.sort(key=lambda rsvp: (rsvp.position or 0, rsvp.created_at, rsvp.pk))
    return AttendeeList(
        confirmed=[rsvp for rsvp in rsvps if rsvp.status == RSVP.Status.CONFIRMED],
        waitlisted=waitlisted,
        cancelled=sum(rsvp.status == RSVP.Status.CANCELLED for rsvp in rsvps),
    )


# The live room


def live_author_display(question: LiveQuestion, viewer) -> str:
    """The asker's name as ``viewer`` may see it: anonymous questions stay anonymous."""
    author = question.author
    if author.is_former_member:
        return _("Former member")
    if not question.is_anonymous:
        return author.name
    if (
        viewer is not None
        and viewer.is_authenticated
        and (viewer.pk == question.author_id or viewer.is_moderator)
    ):
        return _("%(name)s (shown to others as Anonymous patient)") % {"name": author.name}
    return _("Anonymous patient")


def room_role(*, event: Event, viewer) -> str | None:
    """``"host"`` for the event's hosts and organisers, ``"attendee"`` for confirmed attendees.

    Nobody while suspended: a live room is a small gathering, and a
    moderator's suspension takes its person out of it until it ends.
    """
    if not viewer.is_authenticated or not viewer.is_active or viewer.is_suspended:
        return None
    if user_is_organiser(viewer) or _is_host(event, viewer):
        return "host"
    if RSVP.objects.filter(event=event, user=viewer, status=RSVP.Status.CONFIRMED).exists():
        return "attendee"
    return None


def room_access(*, event_id: int, viewer) -> str | None:
    """The viewer's role in a published event's room, for the socket; Http404 if there is none."""
    try:
        event = _with_hosts(Event.objects.published()).get(pk=event_id)
    except Event.DoesNotExist:
        raise Http404 from None
    return room_role(event=event, viewer=viewer)


@dataclass
class RoomPage:
    event: Event
    role: str | None
    open_questions: list[LiveQuestion] = field(default_factory=list)
    answered_questions: list[LiveQuestion] = field(default_factory=list)
    voted_ids: set[int] = field(default_factory=set)

    @property
    def can_moderate(self) -> bool:
        return self.role == "host"

    @property
    def is_open(self) -> bool:
        return self.event.is_published and not self.event.is_past

    @property
    def can_take_part(self) -> bool:
        return self.role is not None and self.is_open

    @property
    def can_publish(self) -> bool:
        return self.can_moderate and self.event.is_published and self.event.is_past


def room_questions(*, event: Event, viewer) -> list[LiveQuestion]:
    """The room's questions, open ones by votes then answered ones, names as the viewer may see them."""
    questions = list(
        LiveQuestion.objects.filter(event=event)
        .select_related("author")
        .order_by("is_answered", "-vote_count", "created_at", "pk")
    )
    for question in questions:
        question.event = event
        question.author_label = live_author_display(question, viewer)
    return questions


def room_page(*, event: Event, viewer) -> RoomPage:
    """Everything the live room shows, in a fixed number of queries."""
    page = RoomPage(event=event, role=room_role(event=event, viewer=viewer))
    if page.role is None:
        return page
    questions = room_questions(event=event, viewer=viewer)
    page.open_questions = [question for question in questions if not question.is_answered]
    page.answered_questions = [question for question in questions if question.is_answered]
    if questions:
        page.voted_ids = set(
            Vote.objects.filter(user=viewer, question__event=event).values_list(
                "question_id", flat=True
            )
        )
    return page


def live_question_for_broadcast(*, pk: int) -> LiveQuestion:
    """A question as everyone in the room sees it, for live fragments."""
    question = LiveQuestion.objects.select_related("author", "event").get(pk=pk)
    question.author_label = live_author_display(question, AnonymousUser())
    return question


def export_for_user(*, user) -> dict:
    """The person's salon data for their personal export (SPEC section 8)."""
    return {
        "places": [
            {
                "event": rsvp.event.title,
                "starts": rsvp.event.starts_at.isoformat(),
                "status": rsvp.status,
                "signed_up": rsvp.created_at.isoformat(),
            }
            for rsvp in RSVP.objects.filter(user=user)
            .select_related("event")
            .order_by("created_at")
        ],
        "live_questions": [
            {
                "event": question.event.title,
                "question": question.body,
                "anonymous": question.is_anonymous,
                "asked": question.created_at.isoformat(),
            }
            for question in LiveQuestion.objects.filter(author=user).select_related("event")
        ],
    }
