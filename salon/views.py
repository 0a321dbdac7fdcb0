import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.forms import apply_errors
from core.ratelimit import RateLimited
from core.refusals import refusal_text
from salon import calendar, selectors, services
from salon.forms import AnsweredForm, EventForm, LiveQuestionForm
from salon.live import votes_label
from salon.models import RSVP, LiveQuestion, user_is_organiser


def _wants_json(request) -> bool:
    """The live room's script posts with fetch and reads JSON; forms without it get pages."""
    return request.headers.get("X-Requested-With") == "fetch"


def _require_organiser(request) -> None:
    if not user_is_organiser(request.user):
        raise PermissionDenied


# Events


def event_list(request):
    upcoming = list(selectors.event_list_upcoming())
    past = list(selectors.event_list_past())
    drafts = list(selectors.event_list_drafts(viewer=request.user))
    statuses = selectors.rsvp_statuses(viewer=request.user, events=upcoming)
    for event in upcoming:
        event.my_status = statuses.get(event.pk, "")
    return render(
        request,
        "salon/event_list.html",
        {
            "upcoming": upcoming,
            "past": past,
            "drafts": drafts,
            "is_organiser": user_is_organiser(request.user),
        },
    )


def event_detail(request, pk):
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    return render(
        request,
        "salon/event_detail.html",
        {"event": event, "epage": selectors.event_page(event=event, viewer=request.user)},
    )


@login_required
@require_POST
def event_rsvp(request, pk):
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    try:
        if request.POST.get("cancel"):
            services.rsvp_cancel(event=event, user=request.user)
            messages.success(request, _("Your place is cancelled. Thank you for letting us know."))
        else:
            rsvp = services.rsvp_create(event=event, user=request.user)
            if rsvp.status == RSVP.Status.CONFIRMED:
                messages.success(request, _("Your place is confirmed. See you there!"))
            else:
                messages.info(
                    request,
                    _(
                        "The event is full: you are on the waitlist. "
                        "You will be notified as soon as a place opens up."
                    ),
                )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        # Suspended, say: told why on the event's page.
        messages.error(request, refusal_text(error))
    return redirect(event)


@login_required
def event_create(request):
    _require_organiser(request)
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_create(organiser=request.user, **form.service_kwargs())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The event is saved."))
            return redirect(event)
    return render(request, "salon/event_form.html", {"form": form, "event": None})


@login_required
def event_edit(request, pk):
    _require_organiser(request)
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    form = EventForm(request.POST or None, event=event, initial=EventForm.initial_for(event))
    if request.method == "POST" and form.is_valid():
        try:
            services.event_update(event=event, organiser=request.user, **form.service_kwargs())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect(event)
    return render(request, "salon/event_form.html", {"form": form, "event": event})


@login_required
def event_attendees(request, pk):
    _require_organiser(request)
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    return render(
        request,
        "salon/event_attendees.html",
        {"event": event, "attendees": selectors.attendee_list(event=event)},
    )


def _csv_cell(value) -> str:
    text = str(value)
    # A name starting with =, +, - or @ would be run as a formula by spreadsheets.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


@login_required
def event_attendees_csv(request, pk):
    _require_organiser(request)
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    attendees = selectors.attendee_list(event=event)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="salon-event-{event.pk}-attendees.csv"'
    # A byte-order mark, so spreadsheet programs read Chinese names correctly.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [_("Name"), _("E-mail address"), _("Status"), _("Waitlist position"), _("Signed up")]
    )
    rows = [(rsvp, "") for rsvp in attendees.confirmed] + [
        (rsvp, index) for index, rsvp in enumerate(attendees.waitlisted, start=1)
    ]
    for rsvp, place in rows:
        writer.writerow(
            [
                _csv_cell(rsvp.user.name),
                _csv_cell(rsvp.user.email),
                rsvp.get_status_display(),
                place,
                timezone.localtime(rsvp.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return response


def _site(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def event_ics(request, pk):
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    epage = selectors.event_page(event=event, viewer=request.user)
    body = calendar.calendar_bytes(
        [event],
        site=_site(request),
        name=event.title,
        links_for={event.pk} if epage.shows_online_url else set(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="shukang-salon-{event.pk}.ics"'
    return response


def calendar_feed(request):
    events = selectors.event_list_upcoming()
    body = calendar.calendar_bytes(events, site=_site(request), name=_("Shu-Kang Salon"))
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


# The live room


@login_required
def event_live(request, pk):
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    room = selectors.room_page(event=event, viewer=request.user)
    if room.role is None:
        if request.user.is_suspended:
            messages.info(
                request, _("While your account is suspended the live room is closed to you.")
            )
        else:
            messages.info(
                request, _("The live room is open to people with a confirmed place at this event.")
            )
        return redirect(event)
    context = {
        "event": event,
        "room": room,
        "form": LiveQuestionForm(),
        "answered_form": AnsweredForm(),
        "is_organiser": user_is_organiser(request.user),
    }
    if request.GET.get("partial") == "questions":
        # The script asks for the list again after its socket reconnects.
        return render(request, "salon/event_live.html#questions", context)
    return render(request, "salon/event_live.html", context)


def _refused(request, event, error: PermissionDenied):
    status = 429 if isinstance(error, RateLimited) else 403
    return _room_failure(request, event, str(error) or _("You cannot do that."), status=status)


def _room_failure(request, event, message: str, status: int = 400):
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": message}, status=status)
    messages.error(request, message)
    return redirect("salon:event-live", event.pk)


@login_required
@require_POST
def live_question_create(request, pk):
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    form = LiveQuestionForm(request.POST)
    if not form.is_valid():
        return _room_failure(
            request, event, " ".join(e for errors in form.errors.values() for e in errors)
        )
    try:
        question = services.live_question_create(
            event=event,
            author=request.user,
            body=form.cleaned_data["body"],
            is_anonymous=form.cleaned_data["anonymous"],
        )
    except PermissionDenied as error:
        return _refused(request, event, error)
    except ValidationError as error:
        return _room_failure(request, event, " ".join(error.messages))
    if _wants_json(request):
        return JsonResponse({"ok": True, "id": question.pk})
    messages.success(request, _("Your question is in the room."))
    return redirect(question)


def _room_question(question_pk: int) -> LiveQuestion:
    # Any event's question is fetched here; the service refuses one from another event.
    return get_object_or_404(LiveQuestion, pk=question_pk)


@login_required
@require_POST
def live_question_vote(request, pk, question_pk):
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    question = _room_question(question_pk)
    try:
        counted = services.live_question_vote(event=event, question=question, user=request.user)
    except PermissionDenied as error:
        return _refused(request, event, error)
    except ValidationError as error:
        return _room_failure(request, event, " ".join(error.messages))
    if not counted:
        return _room_failure(request, event, _("You have already voted for this question."))
    if _wants_json(request):
        return JsonResponse(
            {
                "ok": True,
                "id": question.pk,
                "votes": question.vote_count,
                "votes_label": votes_label(question.vote_count),
            }
        )
    return redirect(question)


@login_required
@require_POST
def live_question_answered(request, pk, question_pk):
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    question = _room_question(question_pk)
    form = AnsweredForm(request.POST)
    if not form.is_valid():
        return _room_failure(
            request, event, " ".join(e for errors in form.errors.values() for e in errors)
        )
    try:
        services.live_question_mark_answered(
            event=event, question=question, user=request.user, answer=form.cleaned_data["answer"]
        )
    except PermissionDenied as error:
        return _refused(request, event, error)
    except ValidationError as error:
        return _room_failure(request, event, " ".join(error.messages))
    if _wants_json(request):
        return JsonResponse({"ok": True, "id": question.pk})
    return redirect(question)


@login_required
@require_POST
def live_questions_publish(request, pk):
    event = selectors.event_get_for_viewer(pk=pk, viewer=request.user)
    try:
        result = services.live_questions_publish(event=event, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("salon:event-live", event.pk)
    if result.published:
        messages.success(
            request,
            ngettext(
                "%(n)d question is now published in the forum.",
                "%(n)d questions are now published in the forum.",
                len(result.published),
            )
            % {"n": len(result.published)},
        )
    elif not (result.held or result.waiting):
        messages.info(request, _("There were no answered questions left to publish."))
    if result.held:
        messages.info(
            request,
            ngettext(
                "%(n)d question is waiting for a moderator's review in the forum; "
                "publish again once it is approved to add the answer.",
                "%(n)d questions are waiting for a moderator's review in the forum; "
                "publish again once they are approved to add the answers.",
                result.held,
            )
            % {"n": result.held},
        )
    if result.waiting:
        messages.warning(
            request,
            ngettext(
                "%(n)d answered question could not be published yet: it needs a written answer "
                "of at least %(min)d characters and a host physician, or the forum asked to "
                "wait. Try again later.",
                "%(n)d answered questions could not be published yet: they need a written "
                "answer of at least %(min)d characters and a host physician, or the forum "
                "asked to wait. Try again later.",
                result.waiting,
            )
            % {"n": result.waiting, "min": services.FORUM_ANSWER_MIN},
        )
    return redirect("salon:event-live", event.pk)
