"""Published questions like one being asked, for the ask form and the question page.

A title typed on the ask page rarely holds every word of the question that
already answers it, so unlike the search page (where every token must match)
any token may. A candidate is offered when its title holds at least
MIN_SCORE of the typed title's tokens (common ones count half); the share in
the title counts most, the text's rank next, and an answered question, more
so one whose asker accepted an answer, goes before an unanswered one as
alike.

The tokens are the search's own (``forum.search.query_tokens``: stemmed
Latin words, Chinese as character pairs, one token per glossary term in
either language), and so are the documents they are looked up in
(``Question.search_document``, and on PostgreSQL ``search_vector``).

On PostgreSQL, tokens in more than COMMON_SHARE of the questions (“化疗”)
are left out of the look-up, and the GIN index on ``search_vector`` finds
the questions holding any of the rest (``to_tsquery('simple', 'a | b |
c')``): at most CANDIDATES of them, two thirds answered, are read in no
order and ranked with ``ts_rank``, and the best RERANK scored here. When the
statistics say more than CANDIDATES questions would match, a question must
first hold two of the tokens, so the rows read are the likelier ones; when
the rare tokens find too little, the common ones are asked for two at a
time. SQLite matches the tokens with LIKE among the most recently active
questions.
"""

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, ExpressionWrapper, F, FloatField, Q, Value, When

from forum import listcache
from forum.models import Question
from forum.search import STATS_SECONDS, _lexeme_shares, document, query_tokens

RESULTS = 5
# Shorter titles say too little to look anything up by.
MIN_TITLE = 4
TITLE_MAX = Question._meta.get_field("title").max_length
# Tokens in more than this share of the questions are not looked up, and
# count half when a candidate's title holds them.
COMMON_SHARE = 0.05
COMMON_WEIGHT = 0.5
LOOKUP_TOKENS = 8
# A title of common words only is looked up by its least common few, unless
# even the least common is in more than this share of the questions.
COMMON_TOKENS = 4
MOST_COMMON_SHARE = 0.5
# Questions read and ranked in the database, and the best of them scored here.
CANDIDATES = 300
RERANK = 25
# A question whose title holds less than this share of the typed title's
# tokens is not offered: one shared word is not a similar question.
MIN_SCORE = 0.3
# Shared title tokens weigh this much more than the text's rank; answered
# questions, and more so those with an accepted answer, are preferred.
TITLE_WEIGHT = 2.0
ANSWERED_BOOST = 1.3
ACCEPTED_BOOST = 1.5
SQLITE_WINDOW = 500
# What goes between quotes in a raw tsquery: the search's tokens are letters
# and digits, and anything else is left out rather than trusted.
_LEXEME = re.compile(r"^[^\W_]+$")
FIELDS = ("pk", "title", "slug", "answer_count", "accepted_answer_id")


@dataclass(frozen=True)
class Statistics:
    shares: dict[str, float]  # the share of questions holding each common lexeme
    floor: float  # a lexeme not in ``shares`` is in at most this share
    questions: int  # about how many questions there are


_rows: tuple[float, int] | None = None


def _question_rows() -> int:
    """About how many questions there are, as the planner last counted (pg_class)."""
    global _rows
    now = time.monotonic()
    if _rows is None or now - _rows[0] > STATS_SECONDS:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'forum_question'::regclass")
            row = cursor.fetchone()
        _rows = (now, max(int(row[0]) if row else 0, 0))
    return _rows[1]


def statistics() -> Statistics | None:
    """PostgreSQL's statistics of the questions' lexemes, read again every few minutes; else None."""
    if connection.vendor != "postgresql":
        return None
    shares, floor = _lexeme_shares()
    return Statistics(shares, floor, _question_rows())


def _candidates_base(exclude: int | None):
    # A duplicate points to its original, which is offered instead.
    questions = Question.objects.published().filter(duplicate_of__isnull=True)
    if exclude is not None:
        questions = questions.exclude(pk=exclude)
    return questions


def _tsquery(groups: list[tuple[str, ...]]) -> SearchQuery:
    """``'a' | 'b'`` or ``'a' & 'b' | 'a' & 'c'``: tokens hold letters and digits only."""
    text = " | ".join(" & ".join(f"'{token}'" for token in group) for group in groups)
    return SearchQuery(text, config="simple", search_type="raw")


def _lookups(tokens: list[str], stats: Statistics) -> list[tuple[list[tuple], list[str]]]:
    """What to ask the GIN index, strictest first: (the token groups, the ranking tokens).

    Only rare tokens are looked up: those in at most COMMON_SHARE of the
    questions, and those the statistics do not list (rarer than any they
    list). A common token's list in the index is long, and reading it was
    most of a slow look-up.
    """
    rare = [token for token in tokens if stats.shares.get(token, 0.0) <= COMMON_SHARE][
        :LOOKUP_TOKENS
    ]
    if not rare:
        common = _common_lookup(tokens, stats)
        return [common] if common else []
    lookups = []
    # PostgreSQL's planner too takes an unlisted token to be in half the least listed share.
    guessed = sum(stats.shares.get(token, stats.floor / 2) for token in rare)
    if len(rare) > 2 and guessed * stats.questions > CANDIDATES:
        # So many hold one of them that the first CANDIDATES found would be
        # any: first ask for two.
        lookups.append((list(combinations(rare, 2)), rare))
    lookups.append(([(token,) for token in rare], rare))
    return lookups


def _common_lookup(tokens: list[str], stats: Statistics) -> tuple[list[tuple], list[str]] | None:
    """For common words: the least common few, two at a time, if even they say anything."""
    fewest = sorted(tokens, key=lambda token: stats.shares.get(token, 0.0))[:COMMON_TOKENS]
    if not fewest or stats.shares.get(fewest[0], 0.0) > MOST_COMMON_SHARE:
        return None
    groups = list(combinations(fewest, 2)) if len(fewest) > 1 else [tuple(fewest)]
    return groups, fewest


@contextmanager
def _index_only():
    """Run this transaction's look-ups through the GIN index's bitmap, never a walk of the table.

    Asked for a few matches, the planner would walk the table (or the state
    index) in order and test each row, stopping at the few: it costs the
    test as nearly free, but each unpacks a stored vector, and a token in
    one question in ten took 40 ms so over 100,000 questions. The GIN
    index's bitmap answers without unpacking any.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('enable_seqscan', 'off', true), "
            "set_config('enable_indexscan', 'off', true)"
        )
        yield


def _postgres_rows(groups: list[tuple], ranking: list[str], exclude: int | None) -> list[dict]:
    """The RERANK best by ts_rank of at most CANDIDATES questions holding a group of tokens.

    The candidates are the first matches the scan meets, in no order:
    sorting them would read every match.
    """
    matching = _candidates_base(exclude).filter(search_vector=_tsquery(groups)).order_by()
    boost = Case(
        When(accepted_answer__isnull=False, then=Value(ACCEPTED_BOOST)),
        When(answer_count__gt=0, then=Value(ANSWERED_BOOST)),
        default=Value(1.0),
        output_field=FloatField(),
    )
    rows = (
        Question.objects.filter(pk__in=matching.values("pk")[:CANDIDATES])
        .annotate(rank=SearchRank(F("search_vector"), _tsquery([(token,) for token in ranking])))
        .order_by(ExpressionWrapper(F("rank") * boost, output_field=FloatField()).desc(), "-pk")
        .values(*FIELDS, "rank")[:RERANK]
    )
    return list(rows)


def _sqlite_rows(tokens: list[str], exclude: int | None) -> list[dict]:
    """The SQLITE_WINDOW most recently active questions holding a token, with their text's share."""
    holds_any = Q()
    for token in tokens:
        holds_any |= Q(search_document__contains=f" {token} ")
    rows = list(
        _candidates_base(exclude)
        .filter(holds_any)
        .order_by("-last_activity_at", "-pk")
        .values(*FIELDS, "search_document")[:SQLITE_WINDOW]
    )
    for row in rows:
        held = set(row.pop("search_document").split())
        row["text"] = sum(token in held for token in tokens) / len(tokens)
    return rows


def _score(row: dict, weights: dict[str, float]) -> float:
    """How alike a candidate is: its title's share of the tokens above all, then its text's."""
    title = set(document(row["title"]).split())
    in_title = sum(weight for token, weight in weights.items() if token in title)
    in_title /= sum(weights.values())
    if in_title < MIN_SCORE:
        return 0.0
    score = TITLE_WEIGHT * in_title + row["text"]
    if row["accepted_answer_id"] is not None:
        return score * ACCEPTED_BOOST
    return score * ANSWERED_BOOST if row["answer_count"] else score


def similar_questions(title: str, *, exclude: int | None = None, limit: int = RESULTS) -> list:
    """Up to ``limit`` published questions like ``title``, most alike first.

    Each is a dict of ``pk``, ``title``, ``slug``, ``answer_count``,
    ``accepted_answer_id`` and ``url``. ``exclude``: a question's own id,
    for its page. Deleted, unpublished and duplicate questions are never
    offered; neither is the asker's own draft, which is not published.
    """
    title = " ".join((title or "")[:TITLE_MAX].split())
    if len(title) < MIN_TITLE:
        return []
    tokens = [token for token in query_tokens(title) if _LEXEME.match(token)]
    if not tokens:
        return []
    stats = statistics()
    if stats is None:
        return _best(_sqlite_rows(tokens, exclude), dict.fromkeys(tokens, 1.0), limit)
    weights = {
        token: COMMON_WEIGHT if stats.shares.get(token, 0.0) > COMMON_SHARE else 1.0
        for token in tokens
    }
    found: dict[int, dict] = {}
    best: list[dict] = []
    with _index_only():
        for groups, ranking in _lookups(tokens, stats):
            rows = _postgres_rows(groups, ranking, exclude)
            top = max((row["rank"] for row in rows), default=0.0) or 1.0
            for row in rows:
                found.setdefault(row["pk"], {**row, "text": row["rank"] / top})
            best = _best(list(found.values()), weights, limit)
            # Enough candidates to choose from: a looser look-up would cost
            # another scan for questions less alike.
            if len(best) == limit or len(rows) == RERANK:
                break
        if not found:
            # The rare tokens are in no question (words the forum has never
            # used): what the title shares with others is its common words.
            common = _common_lookup([t for t in tokens if t in stats.shares], stats)
            if common:
                rows = _postgres_rows(*common, exclude)
                top = max((row["rank"] for row in rows), default=0.0) or 1.0
                rows = [{**row, "text": row["rank"] / top} for row in rows]
                best = _best(rows, weights, limit)
    return best


def related_to(question: Question) -> list:
    """The questions like ``question`` that its page offers, kept under the forum's version.

    The same for every reader, and for the page as visitors, members,
    physicians and moderators see it: looked up once per version in the
    shared cache, not by each process for each of them. Searched afresh
    while the shared cache cannot be reached.
    """
    version = listcache.version()
    if version is None:
        return similar_questions(question.title, exclude=question.pk)
    key = f"similar:{version}:{question.pk}"  # its title moves the version on too
    found = cache.get(key)
    if found is None:
        found = similar_questions(question.title, exclude=question.pk)
        cache.set(key, found, listcache.TIMEOUT)
    return found


def _best(rows: list[dict], weights: dict[str, float], limit: int) -> list[dict]:
    scored = sorted(
        ((score, row) for row in rows if (score := _score(row, weights)) > 0),
        key=lambda pair: (-pair[0], -pair[1]["pk"]),
    )
    best = []
    for _alike, row in scored[:limit]:
        shown = {name: row[name] for name in FIELDS}
        shown["url"] = Question(pk=row["pk"], slug=row["slug"]).get_absolute_url()
        best.append(shown)
    return best


def as_json(row: dict) -> dict:
    """One question as ``GET /questions/similar/`` answers it (SPEC's fixed shape)."""
    return {
        "id": row["pk"],
        "title": row["title"],
        "url": row["url"],
        "answers": row["answer_count"],
        "accepted": row["accepted_answer_id"] is not None,
    }
