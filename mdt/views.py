"""The MDT online's pages: the board, cases, sessions, and the asker's consent.

Everything but the consent answer is for verified physicians and moderators,
and within that for those the case or session lets in (``mdt.access``):
anyone else gets the site's 404, as if it did not exist. Views parse a form,
call one service and redirect; a refused form shows its errors on the page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import apply_errors
from mdt import calendar, selectors, services
from mdt.forms import (
    CaseForm,
    ConsensusForm,
    ConsentForm,
    FollowUpForm,
    OpinionForm,
    ScheduleForm,
    SessionForm,
)
from mdt.models import Opinion


@require_GET
def board(request):
    return render(request, "mdt/board.html", {"board": selectors.board(viewer=request.user)})


@require_http_methods(["GET", "POST"])
def case_create(request):
    selectors.board_member_only(request.user)
    question = None
    question_id = request.GET.get("question", "")
    if question_id:
        if not question_id.isascii() or not question_id.isdigit() or len(question_id) > 12:
            raise Http404
        question = selectors.question_for_case(pk=int(question_id), viewer=request.user)
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.model.SUMMARY_FIELDS}
        try:
            case = services.case_open(
                owner=request.user,
                values=values,
                disciplines=list(form.cleaned_data["disciplines_needed"]),
                question=question,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if question is not None:
                messages.success(
                    request,
                    _(
                        "Case opened. The asker is asked for consent before it refers to the question."
                    ),
                )
            else:
                messages.success(request, _("Case opened."))
            return redirect(case)
    return render(request, "mdt/case_form.html", {"form": form, "question": question})


def _case_page(request, case, access, **forms):
    page = selectors.case_page(case=case, access=access, viewer=request.user)
    consensus = page.consensus
    context = {
        "page": page,
        "case": case,
        "consensus": consensus,
        "opinion_form": forms.get("opinion_form")
        or OpinionForm(initial={"body": page.own_opinion.body} if page.own_opinion else None),
        "consensus_form": forms.get("consensus_form") or ConsensusForm(instance=consensus),
        "schedule_form": forms.get("schedule_form")
        or ScheduleForm(sessions=page.sessions, initial={"session": case.session_id}),
        "follow_up_form": forms.get("follow_up_form")
        or FollowUpForm(initial={"follow_up_on": case.follow_up_on}),
    }
    return render(request, "mdt/case_detail.html", context, status=400 if forms else 200)


@require_GET
def case_detail(request, pk):
    case, access = selectors.case_get_for_viewer(pk=pk, viewer=request.user)
    services.case_viewed(case=case, user=request.user)
    return _case_page(request, case, access)


@require_http_methods(["GET", "POST"])
def case_edit(request, pk):
    case, access = selectors.case_get_for_viewer(pk=pk, viewer=request.user)
    if not access.edits_summary:
        raise PermissionDenied(_("Only the case's owner or a moderator changes its summary."))
    form = CaseForm(request.POST or None, instance=case)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in case.SUMMARY_FIELDS}
        try:
            services.case_edit(
                case=case,
                editor=request.user,
                values=values,
                disciplines=list(form.cleaned_data["disciplines_needed"]),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The summary is saved."))
            return redirect(case)
    return render(request, "mdt/case_form.html", {"form": form, "case": case})


def _post_on_case(request, pk, form, act, done: str, form_name: str, *, found=None):
    """Run ``act(case)`` for a valid form; on a refusal show the case page with the errors.

    ``found`` is the (case, access) a view has already looked up.
    """
    case, access = found or selectors.case_get_for_viewer(pk=pk, viewer=request.user)
    if form.is_valid():
        try:
            act(case, form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(case)
    return _case_page(request, case, access, **{form_name: form})


@require_POST
def opinion_save(request, pk):
    return _post_on_case(
        request,
        pk,
        OpinionForm(request.POST),
        lambda case, data: services.opinion_save(case=case, author=request.user, body=data["body"]),
        _("Your opinion is saved."),
        "opinion_form",
    )


@require_POST
def consensus_save(request, pk):
    final = request.POST.get("final") == "1"
    return _post_on_case(
        request,
        pk,
        ConsensusForm(request.POST),
        lambda case, data: services.consensus_save(
            case=case, user=request.user, values=data, final=final
        ),
        _("The consensus is final.") if final else _("The consensus draft is saved."),
        "consensus_form",
    )


@require_POST
def case_schedule(request, pk):
    case, access = selectors.case_get_for_viewer(pk=pk, viewer=request.user)
    sessions = selectors.schedulable_sessions(viewer=request.user, access=access)
    return _post_on_case(
        request,
        pk,
        ScheduleForm(request.POST, sessions=sessions),
        lambda case, data: services.case_schedule(
            case=case, user=request.user, session=data["session"]
        ),
        _("The agenda is updated."),
        "schedule_form",
        found=(case, access),
    )


@require_POST
def follow_up_set(request, pk):
    return _post_on_case(
        request,
        pk,
        FollowUpForm(request.POST),
        lambda case, data: services.follow_up_set(
            case=case, user=request.user, on=data["follow_up_on"]
        ),
        _("The follow-up date is saved."),
        "follow_up_form",
    )


@require_POST
def case_close(request, pk):
    case, _access = selectors.case_get_for_viewer(pk=pk, viewer=request.user)
    services.case_close(case=case, user=request.user)
    messages.success(request, _("The case is closed. It stays readable here."))
    return redirect(case)


@require_GET
def opinion_history(request, pk, opinion):
    case, _access = selectors.case_get_for_viewer(pk=pk, viewer=request.user)
    opinion = get_object_or_404(
        Opinion.objects.select_related("author", "discipline"), pk=opinion, case=case
    )
    return render(
        request,
        "mdt/opinion_history.html",
        {"case": case, "opinion": opinion, "versions": selectors.opinion_versions(opinion=opinion)},
    )


@require_GET
def case_audit(request, pk):
    case, access = selectors.case_get_for_viewer(pk=pk, viewer=request.user)
    if not access.session.moderator:
        raise Http404
    return render(
        request,
        "mdt/case_audit.html",
        {"case": case, "events": selectors.audit_for_case(case=case)},
    )


@require_GET
def case_export(request, pk):
    case, access = selectors.case_get_for_viewer(pk=pk, viewer=request.user)
    page = selectors.case_page(case=case, access=access, viewer=request.user)
    services.case_viewed(case=case, user=request.user, exported=True)
    response = render(
        request,
        "mdt/case_export.txt",
        {"page": page, "case": case},
        content_type="text/plain; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="shukang-mdt-case-{case.pk}.txt"'
    return response


def _session_form(request, session=None):
    data = request.POST if request.method == "POST" else None
    initial = SessionForm.initial_for(session) if session else {"chair": request.user.pk}
    return SessionForm(data, initial=initial, physicians=selectors.physicians())


def _session_values(form) -> tuple[dict, list]:
    data = dict(form.cleaned_data)
    return data, list(data.pop("invited"))


@require_http_methods(["GET", "POST"])
def session_create(request):
    selectors.board_member_only(request.user)
    form = _session_form(request)
    if request.method == "POST" and form.is_valid():
        values, invited = _session_values(form)
        try:
            session = services.session_save(user=request.user, values=values, invited=invited)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The session is scheduled. Invited physicians are told."))
            return redirect(session)
    return render(request, "mdt/session_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def session_edit(request, pk):
    session, roles = selectors.session_get_for_viewer(pk=pk, viewer=request.user)
    if not roles.leads:
        raise PermissionDenied(_("Only the session's chair or a moderator changes it."))
    form = _session_form(request, session)
    if request.method == "POST" and form.is_valid():
        values, invited = _session_values(form)
        try:
            services.session_save(
                user=request.user, values=values, invited=invited, session=session
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The session is saved."))
            return redirect(session)
    return render(request, "mdt/session_form.html", {"form": form, "session": session})


@require_GET
def session_detail(request, pk):
    session, roles = selectors.session_get_for_viewer(pk=pk, viewer=request.user)
    page = selectors.session_page(session=session, roles=roles, viewer=request.user)
    return render(request, "mdt/session_detail.html", {"session": session, "page": page})


@require_GET
def session_ics(request, pk):
    session, _roles = selectors.session_get_for_viewer(pk=pk, viewer=request.user)
    body = calendar.session_ics(session, site=request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="shukang-mdt-{session.pk}.ics"'
    return response


@login_required
@require_POST
def consent_decide(request, pk):
    consent = selectors.consent_get_for_asker(pk=pk, user=request.user)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether you agree."))
        return redirect(consent.question.get_absolute_url() + "#mdt-consent")
    give = form.cleaned_data["decision"] == "give"
    try:
        services.consent_decide(consent=consent, user=request.user, give=give)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if give:
            messages.success(
                request,
                _(
                    "Thank you. The physicians will discuss your case without your name, and you will be told of their recommendation here."
                ),
            )
        else:
            messages.success(
                request, _("Understood. Your question will not be linked to the case.")
            )
    return redirect(consent.question.get_absolute_url())
