from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from moderation import registry, selectors, services
from moderation.forms import (
    BlockedTermForm,
    BlockedTermRemoveForm,
    DecisionForm,
    FlagForm,
    SuspendForm,
)
from moderation.models import BlockedTerm

LOG_PER_PAGE = 50


def moderator_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_moderator:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@moderator_required
def queue(request):
    return render(
        request,
        "moderation/queue.html",
        {
            "items": selectors.queue(),
            "open_count": selectors.open_case_count(),
            "decision_form": DecisionForm(),
        },
    )


@moderator_required
@require_POST
def decide(request, case_id):
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("moderation:queue")
    data = form.cleaned_data
    version = data["version"] or None
    try:
        if data["action"] == "approve":
            services.case_approve(case_id=case_id, moderator=request.user, seen_version=version)
            messages.success(request, _("Approved."))
        elif data["action"] == "reject":
            services.case_reject(
                case_id=case_id, moderator=request.user, reason=data["reason"], seen_version=version
            )
            messages.success(request, _("Rejected; the author has been told why."))
        else:
            services.case_redact_and_approve(
                case_id=case_id,
                moderator=request.user,
                body=data["body"],
                title=data["title"],
                reason=data["reason"],
                seen_version=version,
            )
            messages.success(request, _("Redacted and approved."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("moderation:queue")


@moderator_required
def log(request):
    page = Paginator(selectors.audit_log(), LOG_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "moderation/log.html", {"page": page})


@moderator_required
def words(request):
    form = BlockedTermForm(request.POST or None)
    if request.method == "POST":
        if "remove" in request.POST:
            removal = BlockedTermRemoveForm(request.POST)
            if not removal.is_valid():
                raise BadRequest(removal.errors.as_text())
            services.blocked_term_remove(
                term=get_object_or_404(BlockedTerm, pk=removal.cleaned_data["remove"]),
                moderator=request.user,
            )
            return redirect("moderation:words")
        if form.is_valid():
            try:
                services.blocked_term_add(term=form.cleaned_data["term"], moderator=request.user)
            except ValidationError as error:
                form.add_error("term", error)
            else:
                return redirect("moderation:words")
    return render(
        request, "moderation/words.html", {"form": form, "terms": selectors.blocked_terms()}
    )


@moderator_required
def suspend(request, user_id):
    person = get_object_or_404(get_user_model(), pk=user_id)
    form = SuspendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_suspend(
                user=person,
                moderator=request.user,
                until=form.cleaned_data["until"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(name)s is suspended.") % {"name": person.name})
            return redirect("moderation:queue")
    return render(request, "moderation/suspend.html", {"form": form, "person": person})


@login_required
def flag(request, kind, pk):
    """Flag a post its kind lets readers flag, as the flagger may see it; else 404."""
    registered = registry.kind_named(kind)
    if registered is None or registered.flagging is None:
        raise PermissionDenied
    post = registered.flagging.lookup(pk, request.user)
    form = FlagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.post_flag(post=post, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if created:
                messages.success(
                    request,
                    _(
                        "Thank you. A moderator will look at it; the author is not told who flagged it."
                    ),
                )
            else:
                messages.info(
                    request, _("You have already flagged this. A moderator will look at it.")
                )
            # Enough flags hide the post: then the flagger goes back to the list.
            return redirect(registered.flagging.next_url(post, request.user))
    return render(request, "moderation/flag.html", {"form": form, "post": post, "kind": kind})
