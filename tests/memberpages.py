"""A member's page rendered the usual way and from the shared one, for byte-for-byte comparisons."""

import re

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def page(client, url: str) -> str:
    """The page's HTML with the CSRF tokens (different on every render) set aside."""
    response = client.get(url)
    assert response.status_code == 200
    return CSRF.sub('name="csrfmiddlewaretoken" value="-"', response.content.decode())


def both(client, settings, url: str) -> tuple[str, str]:
    """(usual, from the shared page, twice: the miss and the hit)."""
    settings.SHUKANG_MEMBER_PAGE_CACHE = False
    usual = page(client, url)
    settings.SHUKANG_MEMBER_PAGE_CACHE = True
    first = page(client, url)
    again = page(client, url)
    assert first == again
    return usual, again
