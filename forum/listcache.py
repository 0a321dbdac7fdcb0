"""The forum's version, and the question lists cached under it.

Every change that shows on a forum page visitors see (a post written,
edited, moderated, thanked or accepted, a question locked, a name, a
physician's profile, a topic or tag) moves the version on after its commit.
Two caches are keyed by it:

- Visitors' whole list and question pages, in each process
  (``core.pagecache``).
- The body of each list, in the shared cache: visitors and members see the
  same lists (``selectors.sees_public_list``; a member's own unpublished
  questions are listed apart), so the body is rendered once per version,
  address and language for all of them. Moderators, who see every state,
  are never served from it.
"""

import hashlib

from django.utils import timezone, translation

from core.versions import SharedVersion

VERSION_KEY = "forum:list-version"
TIMEOUT = 300
_version = SharedVersion(VERSION_KEY, "forum")
# The forum's version, or None when the shared cache cannot be reached.
version = _version.get


def invalidate() -> None:
    """Forget every cached list once the current transaction commits."""
    _version.invalidate()


# What the list pages' addresses may carry and still be cached: made-up
# parameters would fill the caches with copies of one list.
LIST_PARAMS = frozenset(
    ("category", "tag", "status", "sort", "stage", "treatment", "asker", "page")
)


def key_for(request) -> str | None:
    """The cache key of this request's list, for a viewer who sees the public list."""
    if not LIST_PARAMS.issuperset(request.GET):
        return None
    current = version()
    if current is None:
        return None
    parts = [
        str(current),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        request.get_full_path(),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
