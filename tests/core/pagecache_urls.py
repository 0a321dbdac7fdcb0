"""Two views behind core.pagecache, for tests/core/test_pagecache.py."""

from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path

from core.pagecache import visitor_page

CALLS: list[str] = []
PAGE = engines["django"].from_string("<p>A page</p>")


def version() -> int:
    return 1


@visitor_page(version)
def gone(request):
    CALLS.append("gone")
    return TemplateResponse(request, PAGE, status=410)


@visitor_page(version)
def fine(request):
    CALLS.append("fine")
    return TemplateResponse(request, PAGE)


urlpatterns = [path("gone/", gone), path("fine/", fine)]
