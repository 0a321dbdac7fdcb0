"""A physician's "I'm answering this", and passing a question to another group."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.refusals import refusal_text
from duty import services
from duty.forms_pass import PassForm
from duty.models import TumourGroup
from forum import selectors as forum_selectors


@login_required
@require_POST
def claim(request, pk):
    question = forum_selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    if request.POST.get("release"):
        services.question_unclaim(question=question, physician=request.user)
        messages.success(request, _("You are no longer answering this question."))
        return redirect(question)
    try:
        services.question_claim(question=question, physician=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("Other physicians see that you are answering this question."))
    return redirect(question)


@login_required
@require_POST
def pass_to_group(request, pk):
    question = forum_selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    form = PassForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(question)
    group = get_object_or_404(
        TumourGroup.objects.select_related("category"), pk=form.cleaned_data["group"]
    )
    try:
        services.question_pass(
            question=question, by=request.user, to_group=group, note=form.cleaned_data["note"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(
            request,
            _("The question is now in %(group)s; its physicians have been told.")
            % {"group": group.category.label},
        )
    return redirect(question)
