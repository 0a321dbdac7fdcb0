import zoneinfo

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
