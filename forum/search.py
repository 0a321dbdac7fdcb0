"""Full-text search that also understands Chinese.

PostgreSQL's parser splits text at spaces, and Chinese has none, so the
searchable document stores Chinese runs as overlapping character pairs
(bigrams) beside single characters, and Latin words lower-cased. A query is
tokenised the same way and every token must match. On PostgreSQL the
stored vector is searched (``matches``) and the matches ranked (``ranked``);
SQLite matches the same tokens with LIKE and lists them by activity.
"""

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection, transaction
from django.db.models import F, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils.html import escape

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{CJK}]+|[^\W_]+", re.UNICODE)
_CJK_RUN = re.compile(rf"^[{CJK}]+$")
MAX_QUERY_TOKENS = 12


def _tokens(text: str, *, for_query: bool) -> list[str]:
    tokens = []
    for run in _TOKEN.findall((text or "").lower()):
        if _CJK_RUN.match(run):
            if len(run) == 1:
                tokens.append(run)
                continue
            if not for_query:
                tokens.extend(run)
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(run)
    return tokens


def document(*parts: str) -> str:
    """The stored, space-separated search document for some texts."""
    seen = dict.fromkeys(token for part in parts for token in _tokens(part, for_query=False))
    return f" {' '.join(seen)} " if seen else ""


def query_tokens(query: str) -> list[str]:
    return list(dict.fromkeys(_tokens(query, for_query=True)))[:MAX_QUERY_TOKENS]


def vector_update(document: str) -> dict:
    """The column a write sets beside search_document: its parsed form, on PostgreSQL.

    Built from the new text itself: in one UPDATE a column reference would
    still read the old document.
    """
    if connection.vendor == "postgresql":
        return {"search_vector": SearchVector(Value(document), config="simple")}
    return {}


# Ranking reads every candidate's stored vector, so it is given the most
# recently active matches only; a page says when there were more.
MAX_CANDIDATES = 250
# How many of the most recently active public questions a search walks
# first, testing each, before it asks the GIN index for every match.
RECENT_WINDOW = 2500
ACTIVITY = ("-last_activity_at", "-pk")


@dataclass
class Matches:
    """The ids of up to MAX_CANDIDATES matching questions, most recently active first."""

    ids: list[int]
    more: bool  # matches beyond MAX_CANDIDATES were left out
    public: int  # how many of ``ids`` are published questions


@contextmanager
def _without_seqscan():
    """Run PostgreSQL queries with sequential scans off, for this transaction only.

    The planner costs the ``@@`` test on a row as nearly free, and would scan
    the whole table rather than read the GIN index.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        yield


def ts_query(query: str) -> SearchQuery:
    return SearchQuery(" ".join(query_tokens(query)), config="simple", search_type="plain")


# ANALYZE's sample of the vectors' most common lexemes, read again after this long.
STATS_SECONDS = 600
_stats: tuple[float, dict[str, float], float] | None = None


def _lexeme_shares() -> tuple[dict[str, float], float]:
    """The share of questions holding each common lexeme, and the least share listed.

    PostgreSQL's planner keeps these for the vector column (``pg_stats``);
    a lexeme not listed is in fewer questions than the least listed one.
    """
    global _stats
    now = time.monotonic()
    if _stats is None or now - _stats[0] > STATS_SECONDS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                "WHERE tablename = 'forum_question' AND attname = 'search_vector'"
            )
            row = cursor.fetchone()
        lexemes, shares = row if row and row[0] else ([], [])
        # After one share per lexeme come the least and the greatest share.
        listed = dict(zip(lexemes, shares[: len(lexemes)], strict=True))
        _stats = (now, listed, shares[len(lexemes)] if shares else 0.0)
    return _stats[1], _stats[2]


def _share(tokens: list[str]) -> float:
    """At most how many questions, as a share, hold every token: as many as hold the rarest.

    The planner multiplies the tokens' shares as if they were independent,
    but the character pairs of one Chinese word nearly always come together,
    so it guesses far too few matches for a common word.
    """
    shares, floor = _lexeme_shares()
    return min(shares.get(token, floor) for token in tokens)


# The newest public questions in activity order (the partial index
# question_public_active), then the matches among them in the same order: the
# scan stops as soon as enough are found. Written out because the ORM cannot
# select from a subquery; the planner, guessing few matches, would otherwise
# read the whole window to sort it.
_RECENT_MATCHES = """
    SELECT id FROM (
        SELECT id, last_activity_at, search_vector FROM forum_question
        WHERE state = %s AND deleted_at IS NULL
        ORDER BY last_activity_at DESC, id DESC
        LIMIT %s
    ) AS recent
    WHERE search_vector @@ plainto_tsquery('simple'::regconfig, %s)
    ORDER BY last_activity_at DESC, id DESC
    LIMIT %s
"""


def _recent_matches(tokens: list[str], limit: int) -> list[int] | None:
    """The newest ``limit`` matches among the RECENT_WINDOW most recently active public questions.

    None when there are fewer there: the word is rarer than the statistics
    said (or the forum is small), and the GIN index must find the matches.
    """
    from forum.models import PostState

    with connection.cursor() as cursor:
        cursor.execute(
            _RECENT_MATCHES, [PostState.PUBLISHED.value, RECENT_WINDOW, " ".join(tokens), limit]
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) == limit else None


def matches(query: str, *, extra: QuerySet | None = None) -> Matches:
    """The published questions (and those of ``extra``) matching every token of ``query``.

    ``extra`` is the few unpublished questions the searcher may also see
    (their own, or all for moderators).

    On PostgreSQL a word found in many questions (“化疗”, in two of three
    here) must not make a search read every match: fetched through the GIN
    index to be sorted by activity, the 28,000 matches of a word in 100,000
    questions took 400 ms. For a word the statistics say is that common,
    the search walks the RECENT_WINDOW most recently active questions in
    order, testing each, and stops at MAX_CANDIDATES matches; a rarer word,
    or one the walk found too few of, goes to the GIN index, which is then
    quick because its matches are few.
    """
    from forum.models import Question

    tokens = query_tokens(query)
    if not tokens:
        return Matches([], more=False, public=0)
    limit = MAX_CANDIDATES + 1
    public = Question.objects.published()
    if connection.vendor != "postgresql":
        for token in tokens:
            public = public.filter(search_document__contains=f" {token} ")
            if extra is not None:
                extra = extra.filter(search_document__contains=f" {token} ")
        ids = list(public.order_by(*ACTIVITY).values_list("pk", flat=True)[:limit])
    else:
        ids = None
        if _share(tokens) * RECENT_WINDOW >= MAX_CANDIDATES:
            ids = _recent_matches(tokens, limit)
        if ids is None:
            with _without_seqscan():
                found = public.filter(search_vector=ts_query(query)).order_by(*ACTIVITY)
                ids = list(found.values_list("pk", flat=True)[:limit])
        if extra is not None:
            extra = extra.filter(search_vector=ts_query(query))
    more = len(ids) > MAX_CANDIDATES
    ids = ids[:MAX_CANDIDATES]
    public_count = len(ids)
    if extra is not None:
        own = list(extra.order_by(*ACTIVITY).values_list("pk", flat=True)[:limit])
        more = more or len(own) > MAX_CANDIDATES
        ids += own[:MAX_CANDIDATES]
    return Matches(ids, more, public_count)


def among(ids: list[int]):
    """A value for ``pk__in``: on PostgreSQL one array parameter, not one per id."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


def ranked(questions: QuerySet, query: str) -> QuerySet:
    """``questions`` (the matches), best first: by rank on PostgreSQL, else most recently active."""
    if connection.vendor != "postgresql":
        return questions.order_by(*ACTIVITY)
    rank = SearchRank(F("search_vector"), ts_query(query))
    return questions.annotate(rank=rank).order_by("-rank", *ACTIVITY)


def highlight(text: str, query: str, *, length: int = 180) -> str:
    """An escaped snippet of ``text`` around the first match, matches in <mark>."""
    words = [re.escape(word) for word in query.split() if word.strip()][:MAX_QUERY_TOKENS]
    text = " ".join((text or "").split())
    if not words:
        return escape(text[:length])
    pattern = re.compile("|".join(sorted(words, key=len, reverse=True)), re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, (first.start() if first else 0) - length // 3)
    snippet = text[start : start + length]
    parts, last = [], 0
    for match in pattern.finditer(snippet):
        parts.append(escape(snippet[last : match.start()]))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(escape(snippet[last:]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + length < len(text) else ""
    return prefix + "".join(parts) + suffix
