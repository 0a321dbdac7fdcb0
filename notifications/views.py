from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from notifications import selectors, services
from notifications.forms import MarkReadForm, PreferencesForm
from notifications.models import Verb
from notifications.texts import notification_text

PER_PAGE = 30


@login_required
def notification_list(request):
    page = Paginator(selectors.notification_list(user=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    for notification in page.object_list:
        notification.text = notification_text(notification.verb, notification.data)
    return render(request, "notifications/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_mark_read(request):
    form = MarkReadForm(request.POST)
    if not form.is_valid():
        raise BadRequest(form.errors.as_text())
    if form.cleaned_data["all"]:
        services.notifications_mark_read(user=request.user)
        messages.success(request, _("All notifications are marked as read."))
    else:
        services.notifications_mark_read(user=request.user, ids=form.cleaned_data["id"])
    return redirect(form.cleaned_data["next"] or "notifications:list")


def _verbs_for(user: User) -> list[str]:
    """The kinds of notification that can happen to this person."""
    verbs = [verb for verb in Verb.values if verb not in {Verb.SPECIALTY_QUESTION, Verb.QUEUE_ITEM}]
    if user.role == User.Role.DOCTOR:
        verbs.insert(0, Verb.SPECIALTY_QUESTION)
    if user.is_moderator:
        verbs.insert(0, Verb.QUEUE_ITEM)
    return verbs


@login_required
def preferences(request):
    table = selectors.preference_table(user=request.user, verbs=_verbs_for(request.user))
    form = PreferencesForm(request.POST or None, table=table)
    if request.method == "POST" and form.is_valid():
        services.preferences_save(user=request.user, choices=form.choices())
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})


def unsubscribe(request, token):
    try:
        user, verb = services.unsubscribe(token=token)
    except (signing.BadSignature, User.DoesNotExist):
        return render(request, "notifications/unsubscribe.html", {"failed": True}, status=400)
    return render(
        request, "notifications/unsubscribe.html", {"label": Verb(verb).label, "person": user}
    )
