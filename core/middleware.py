import zoneinfo

from django.core.exceptions import BadRequest
from django.shortcuts import render
from django.utils import timezone


class UserTimezoneMiddleware:
    """Show times in the signed-in user's chosen zone; the default is Asia/Shanghai."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        tz_name = (
            getattr(user, "timezone", "") if user is not None and user.is_authenticated else ""
        )
        if tz_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(tz_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class RateLimitMiddleware:
    """Turn RateLimited from any service into the friendly 429 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from core.ratelimit import RateLimited

        if isinstance(exception, RateLimited):
            return render(request, "429.html", {"message": str(exception)}, status=429)
        return None


NUL = "\x00"


def _holds_nul(data) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in data.lists())


class HostileInputMiddleware:
    """Answer 400, not 500, to input no database accepts.

    A NUL character in the path, the query or a form: PostgreSQL refuses NUL
    in text (SQLite stores it). Form fields refuse it one by one (Django's
    ``ProhibitNullCharactersValidator``); this also covers what views and
    middleware read directly: filters and ids from the query, the session
    cookie. A cookie holding one is ignored rather than refused, as the
    browser would send it again with every request; hence the place before
    SessionMiddleware.

    A number too large for the database, which SQLite's driver refuses with
    OverflowError wherever Django does not catch it first (lookups through a
    foreign key or ``__in``, as a model choice field makes): no row has such
    an id, so the request, not the server, is at fault.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name in [name for name, value in request.COOKIES.items() if NUL in name + value]:
            del request.COOKIES[name]
        if NUL in request.path_info or _holds_nul(request.GET) or self._form_holds_nul(request):
            raise BadRequest("NUL character in the request")
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OverflowError):
            raise BadRequest("A number too large for the database") from exception
        return None

    @staticmethod
    def _form_holds_nul(request) -> bool:
        if request.method != "POST":
            return False
        return _holds_nul(request.POST) or any(
            NUL in field or any(NUL in (upload.name or "") for upload in uploads)
            for field, uploads in request.FILES.lists()
        )
