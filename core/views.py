import math
import sys

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache

from accounts import selectors as account_selectors
from accounts.models import user_is_verified_doctor
from core import memberpage
from core.health import run_checks
from core.pagecache import visitor_page
from core.refusals import refusal_text
from duty import selectors as duty_selectors
from forum import listcache as forum_listcache
from forum import selectors as forum_selectors
from forum.models import Category
from salon import listcache as salon_listcache
from salon import selectors as salon_selectors

HOME_QUESTIONS = 8
# The answer line changes by itself too, once an hour (duty.selectors.home_line):
# a visitor's home is at most this much older than it.
HOME_PAGE_SECONDS = 300


def _home_version() -> str | None:
    """The forum's and the salon's versions together: the visitors' home shows both."""
    forum = forum_listcache.version()
    if forum is None:
        return None
    salon = salon_listcache.version()
    if salon is None:
        return None
    return f"{forum}.{salon}"


def _home_seconds(events) -> int:
    """Keep the home until the next of its events starts (Live now) or ends (gone)."""
    now = timezone.now()
    moments = [
        moment for event in events for moment in (event.starts_at, event.ends_at) if moment > now
    ]
    if not moments:
        return HOME_PAGE_SECONDS
    return max(1, min(HOME_PAGE_SECONDS, math.ceil((min(moments) - now).total_seconds())))


def _home_page_seconds(response: TemplateResponse) -> int:
    return _home_seconds(response.context_data["upcoming_events"])


def _public_home(viewer) -> dict:
    """What the home shows every reader alike, with the latest questions ``viewer`` may see."""
    return {
        "categories": list(Category.objects.all()),
        "doctors": list(account_selectors.doctor_list()[:4]),
        "latest_questions": list(forum_selectors.question_list(viewer=viewer)[:HOME_QUESTIONS]),
        "unanswered_count": forum_selectors.unanswered_count(),
        "upcoming_events": salon_selectors.event_list_for_home(),
        "answer_line": duty_selectors.home_line(),
    }


def _kept_public_home(current: str) -> dict:
    """A visitor's ``_public_home``, kept in this process under the home's version ``current``.

    For the signed-in readers the plain members' page does not serve
    (physicians, moderators, suspended members...), so that only their own
    panels are asked each time.
    """
    key = f"home:public:{current}"
    pages = caches["pages"]
    public = pages.get(key)
    if public is None:
        public = _public_home(AnonymousUser())
        pages.set(key, public, _home_seconds(public["upcoming_events"]))
    return public


def _physician_home(request) -> HttpResponse | None:
    """A verified physician's home: the physicians' shared one, with their own panels filled in.

    The shared page is rendered once per process, language, time zone and
    version, like the plain members' (``core.memberpage``). What waits in
    their specialties is kept for each under the same version; what waits
    for their duty today is asked (one query, three on duty) and rendered
    on every request. None: the page is rendered for them.
    """
    if request.method not in ("GET", "HEAD") or request.GET or len(get_messages(request)):
        return None
    current = _home_version()
    if current is None:
        return None
    found = memberpage.personal(request)
    if found.unpublished:  # their own waiting question among the latest
        return None
    page_key = memberpage.key(request, "physician-home", current)
    pages = caches["pages"]
    html = pages.get(page_key)
    if html is None:
        public = _kept_public_home(current)
        context = {**public, "panels_slot": memberpage.slot("panels")}
        response = TemplateResponse(request, "core/home.html", context)
        response.context_data = {**context, **memberpage.layout_context()}
        html = response.render().content.decode()
        pages.set(page_key, html, _home_seconds(public["upcoming_events"]))
    user = request.user
    # What waits in their specialties changes with the forum; their duty list with the hour.
    rows_key = memberpage.key(request, "physician-waiting", user.pk, current)
    rows = pages.get(rows_key)
    if rows is None:
        rows = render_to_string(
            "core/home.html#waiting_rows",
            {"waiting_for_me": forum_selectors.unanswered_for_doctor(doctor=user)},
            request=request,
        )
        pages.set(rows_key, rows, HOME_PAGE_SECONDS)
    panels = render_to_string(
        "core/home.html#doctor_panels",
        {
            "waiting_rows": mark_safe(rows),  # noqa: S308 - rendered above, escaped as any template
            "on_duty": duty_selectors.waiting_on_duty(physician=user),
        },
        request=request,
    )
    return memberpage.fill(request, html, found, {"panels:0": panels})


@visitor_page(_home_version, timeout=_home_page_seconds)
@memberpage.member_page(_home_version, timeout=_home_page_seconds)
def home(request):
    user = request.user
    if memberpage.eligible_physician(user):
        response = _physician_home(request)
        if response is not None:
            return response
    current = None
    if (
        user.is_authenticated
        and request.method in ("GET", "HEAD")
        and getattr(settings, "SHUKANG_MEMBER_PAGE_CACHE", True)
    ):
        current = _home_version()  # None: nothing may be kept, the database is asked
    if current is None:
        context = _public_home(user)
    else:
        context = dict(_kept_public_home(current))
        state = getattr(user, "member_state", None)
        if user.is_moderator or state is None or state.unpublished:
            # Moderators see held questions among the latest, a member their own waiting.
            latest = forum_selectors.question_list(viewer=user)[:HOME_QUESTIONS]
            context["latest_questions"] = latest
    if user_is_verified_doctor(request.user):
        # A doctor's home leads with what is waiting in their specialties.
        context["waiting_for_me"] = forum_selectors.unanswered_for_doctor(doctor=request.user)
        # And first, the questions of the groups they are on duty for today.
        context["on_duty"] = duty_selectors.waiting_on_duty(physician=request.user)
    return TemplateResponse(request, "core/home.html", context)


@never_cache
def healthz(request):
    healthy, results = run_checks()
    return JsonResponse(results, status=200 if healthy else 503)


def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    # The service's reason reaches the person: suspended until when, only the asker may accept.
    return render(request, "errors/403.html", {"reason": refusal_text(exception)}, status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


# The database is down, restarting or dropped the connection. Django's
# CONN_HEALTH_CHECKS reconnects on the next request, so this passes by itself.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def server_error(request):
    # Rendered without the request context: the database may be what failed.
    # Django calls this while handling the exception, wherever it was raised
    # (a middleware loading the user, or the view), so it is still at hand.
    if isinstance(sys.exception(), DATABASE_UNAVAILABLE):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.render_to_string("errors/500.html"))
