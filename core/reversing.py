"""URLs that lists print many times, reversed once per process.

Django's ``reverse`` walks the URL patterns on every call, about 20 µs
here: a page of twenty question rows links each question, its category
and its tags, some ninety calls and a sixth of rendering the rows
(docs/BENCHMARKS.md). The same arguments always give the same URL under
the same URL configuration and script prefix, which are part of the key.
"""

import functools

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse


def reverse_kept(viewname: str, *args) -> str:
    """``reverse(viewname, args=args)``, remembered for these arguments."""
    return _reversed(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), viewname, args)


@functools.lru_cache(maxsize=8192)
def _reversed(urlconf: str, prefix: str, viewname: str, args: tuple) -> str:
    # ``prefix`` is the script prefix ``reverse`` reads, here only to key the result.
    return reverse(viewname, urlconf=urlconf, args=args)


@receiver(setting_changed)
def _forget_on_new_urlconf(*, setting, **kwargs):
    # As Django forgets its resolvers: a test may load other patterns under the same name.
    if setting == "ROOT_URLCONF":
        _reversed.cache_clear()
