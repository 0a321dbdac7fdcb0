"""Search in both languages, over the department's own vocabulary.

Chinese has no spaces, so the searchable document stores Chinese runs as
single characters and overlapping character pairs (bigrams); English words
are stored as their stems, so "metastases" meets "metastasis". Beside them it
stores one concept token for each glossary term the text names
(``forum/vocabulary.toml``): 奥沙利铂, oxaliplatin and L-OHP all become the
same token, so a query in one language finds text in the other.

A query becomes clauses that must all match. A glossary term is a clause
met by its concept token or by the words as typed; any other word is a
clause of its own, and words that carry no meaning ("what", 怎么办) are
dropped. If that finds too few questions and the query named glossary
terms, the terms alone are searched too, after the strict matches.

On PostgreSQL the stored vector weighs the title (A) above tags and
category names (B) and the text and answers (D), and the GIN index finds the
matches. Ranking is over all matches: the candidates are the best matches by
``search_boost`` (answered, accepted, thanked; duplicates last), found in
that order, and those are ordered by boost plus text rank, in which the
title weighs most. SQLite
matches the same tokens with LIKE and orders by boost, title matches first.

Everyone but moderators finds the same published questions, so a search's
results and each page of their rows are kept in the shared cache under the
forum's version (``cache_key``); a reader whose own questions would change
the page (an unpublished one that matches, an anonymous one of theirs among
the rows) is searched for afresh.
"""

import difflib
import functools
import hashlib
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Least
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.safestring import mark_safe

from forum import listcache, vocabulary

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A Chinese run, or a run of other letters and digits: "第4次化疗" is 第, 4 and 次化疗.
_TOKEN = re.compile(rf"[{CJK}]+|[^\W_{CJK}]+", re.UNICODE)
_CJK_RUN = re.compile(rf"^[{CJK}]+$")
MAX_QUERY_TOKENS = 12

# Words a query is better without: they are in nearly every question, or in
# none of the other language's. Chinese ones are cut out of a run before it
# is split into pairs, so 化疗后怎么办 asks for 化疗 alone.
STOPWORDS_EN = frozenset(
    """a about after again all also am an and any are as at be been before being both but
    by can could did do does doing during for from get got had has have having he her him
    his how i if in into is it its just me might more most my no not now of off on once
    only or other our out over own please same she should so some such than that the
    their them then there these they this those through to too under until up very was
    we were what when where which while who whom why will with would you your""".split()
)
STOPWORDS_ZH = tuple(
    sorted(
        """怎么办 怎么样 怎么 什么 为什么 是不是 有没有 能不能 可不可以 要不要 可以 需要 应该
        是否 请问 医生 大夫 您好 你好 谢谢 一下 如何 哪些 还是 但是 因为 所以 如果 已经 现在
        这个 那个 这样 那样 我们 他们 她们 我的 我妈 我爸 吗 呢 吧 啊 呀 的 了 是 我 你 他 她
        在 有 和 与 及 或 要 会 能 就 都 也 还 很 吃 后 时 着 过 把 被 让 给 对 从 到""".split(),
        key=len,
        reverse=True,
    )
)
_STOP_ZH = re.compile("|".join(STOPWORDS_ZH))


def _latin(word: str) -> str:
    return vocabulary.stem(word)


def _tokens(text: str) -> list[str]:
    """A text's tokens as stored: Chinese characters and their pairs, English stems."""
    tokens = []
    for run in _TOKEN.findall((text or "").lower()):
        if _CJK_RUN.match(run):
            tokens.extend(run)
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(_latin(run))
    return tokens


def _query_words(text: str) -> list[list[str]]:
    """A query's words as token groups: an English word's stem, or a Chinese word's pairs.

    Chinese is cut at the words that carry no meaning; each piece left is
    one word, matched by all its character pairs.
    """
    words = []
    for run in _TOKEN.findall((text or "").lower()):
        if _CJK_RUN.match(run):
            for piece in _STOP_ZH.split(run):
                if len(piece) == 1:
                    words.append([piece])
                elif piece:
                    words.append(_unique(piece[i : i + 2] for i in range(len(piece) - 1)))
        elif run not in STOPWORDS_EN:
            words.append([_latin(run)])
    return words


def concept_token(term: vocabulary.Term) -> str:
    """The one token that stands for a glossary term in every language."""
    return "v" + hashlib.blake2b(term.key.encode(), digest_size=5).hexdigest()


def _concepts(text: str) -> list[str]:
    return [concept_token(term) for term, _written, _start, _end in vocabulary.find(text or "")]


def _unique(tokens) -> list[str]:
    return list(dict.fromkeys(tokens))


def document(*parts: str) -> str:
    """The stored, space-separated search document for some texts."""
    seen = _unique(token for part in parts for token in [*_tokens(part), *_concepts(part)])
    return f" {' '.join(seen)} " if seen else ""


def index_fields(*, title: str, labels: str = "", texts: tuple[str, ...] = ()) -> dict:
    """What a write sets so a question can be found: the document, and on PostgreSQL its vector.

    ``labels`` are the category's and tags' names in both languages. The
    vector is built from the new text itself: in one UPDATE a column
    reference would still read the old document.
    """
    title_part, label_part, text_part = document(title), document(labels), document(*texts)
    # The whole document is the three parts' tokens in order, each once: no
    # need to split the text and look up the glossary a second time.
    whole = _unique(f"{title_part} {label_part} {text_part}".split())
    fields = {"search_document": f" {' '.join(whole)} " if whole else ""}
    if connection.vendor == "postgresql":
        fields["search_vector"] = (
            SearchVector(Value(title_part), config="simple", weight="A")
            + SearchVector(Value(label_part), config="simple", weight="B")
            + SearchVector(Value(text_part), config="simple", weight="D")
        )
    return fields


def question_labels(question) -> str:
    """The category's and tags' names, both languages, as the document indexes them."""
    names = [question.category.name, question.category.name_zh]
    for tag in question.tags.all():
        names += [tag.name, tag.name_zh]
    return " ".join(name for name in names if name)


def boost_expression():
    """How much a question deserves to come first, whatever the words: an UPDATE's value.

    Answered by a physician, an accepted answer, thanks (up to ten);
    a duplicate after its original.
    """
    return (
        Case(When(answer_count__gt=0, then=Value(10)), default=Value(0))
        + Case(When(accepted_answer__isnull=False, then=Value(8)), default=Value(0))
        + Least(F("thanks_count"), Value(10))
        - Case(When(duplicate_of__isnull=False, then=Value(15)), default=Value(0))
    )


def reindex(question_model, answer_model, *, using: str = "default", batch: int = 500) -> int:
    """Index every question again, in batches; returns how many. Models are passed in,
    so migration 0011 can run it on its historical models and ``search_reindex`` on today's.
    """
    questions = question_model.objects.using(using).select_related("category").order_by("pk")
    done = last = 0
    while chunk := list(questions.filter(pk__gt=last).prefetch_related("tags")[:batch]):
        last = chunk[-1].pk
        answers: dict[int, list[str]] = {}
        published = answer_model.objects.using(using).filter(
            question__in=chunk, state="published", deleted_at__isnull=True
        )
        for question_id, body in published.values_list("question_id", "body"):
            answers.setdefault(question_id, []).append(body)
        for question in chunk:
            fields = index_fields(
                title=question.title,
                labels=question_labels(question),
                texts=(question.body, *answers.get(question.pk, [])),
            )
            for name, value in fields.items():
                setattr(question, name, value)
        question_model.objects.using(using).bulk_update(chunk, list(fields))
        question_model.objects.using(using).filter(pk__in=[q.pk for q in chunk]).update(
            search_boost=boost_expression()
        )
        done += len(chunk)
    return done


def boost_refresh(question_ids) -> None:
    from forum.models import Question

    Question.objects.filter(pk__in=list(question_ids)).update(search_boost=boost_expression())


# ---- queries ------------------------------------------------------------


@dataclass
class Clause:
    """One thing the query asks for: met by any one option, each a set of tokens all present."""

    options: list[list[str]]
    concept: str = ""  # the glossary term's token, when the clause names one

    @property
    def ranked_by(self) -> list[str]:
        """What ranking counts: the term's token alone, so a match in either language counts once."""
        return [self.concept] if self.concept else self.options[0]


@dataclass
class Plan:
    clauses: list[Clause] = field(default_factory=list)
    concept_clauses: list[Clause] = field(default_factory=list)
    # (as typed, the other forms searched) for each glossary term of the query.
    expansions: list[tuple[str, list[str]]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # what a snippet marks


# Other forms of a query's term named on the results page.
EXPANSIONS_SHOWN = 4


def plan(query: str) -> Plan:
    query = (query or "")[:400]
    result = Plan()
    rest, last = [], 0
    for term, written, start, end in vocabulary.find(query):
        rest.append(query[last:start])
        last = end
        typed = [token for token in _tokens(written) if not _CJK_RUN.match(token) or len(token) > 1]
        options = [[concept_token(term)]]
        if typed:
            options.append(_unique(typed))
        clause = Clause(options, concept=options[0][0])
        result.clauses.append(clause)
        result.concept_clauses.append(clause)
        # Each language's name first, then the abbreviations and the rest.
        named = [*term.zh[:1], *term.en[:1], *term.abbr, *term.zh[1:], *term.en[1:]]
        others = [
            form for form in _unique([*named, *term.forms]) if form.lower() != written.lower()
        ]
        result.expansions.append((written, others[:EXPANSIONS_SHOWN]))
        result.words += [written, *term.forms]
    rest.append(query[last:])
    leftover = " ".join(rest)
    corrections = 0
    words = []
    for word in _query_words(leftover):
        if word not in words:
            words.append(word)
    if result.clauses or any(len(word) > 1 or len(word[0]) > 1 for word in words):
        # A single Chinese character left between words (术 of 术后) asks for
        # nearly every question; it counts only when it is the whole query.
        words = [word for word in words if len(word) > 1 or not _CJK_RUN.match(word[0])]
    for word in words:
        clause = Clause([word])
        term = None
        token = word[0]
        if corrections < MAX_CORRECTIONS and not _CJK_RUN.match(token):
            term = _misspelt(token, leftover)
        if term is not None:
            # "capecitibine": the word as typed, or the glossary term it is close to.
            corrections += 1
            clause.concept = concept_token(term)
            clause.options.append([clause.concept])
            result.concept_clauses.append(clause)
            result.expansions.append((token, [*term.zh[:1], *term.en[:1]]))
            result.words += list(term.forms)
        result.clauses.append(clause)
    result.words += [word for part in rest for word in part.split() if word.strip()]
    result.clauses = result.clauses[:MAX_QUERY_TOKENS]
    return result


# Words of a query looked up as possible misspellings of a glossary term,
# and how close they must be (difflib's ratio).
MAX_CORRECTIONS = 3
SPELLING_CUTOFF = 0.85


@functools.cache
def _latin_forms() -> dict[str, vocabulary.Term]:
    """Every one-word English form of the glossary of five letters or more, lower-cased."""
    forms = {}
    for term in vocabulary.terms():
        for form in term.forms:
            if re.fullmatch(r"[A-Za-z]{5,}", form):
                forms.setdefault(form.lower(), term)
    return forms


def _misspelt(token: str, text: str) -> vocabulary.Term | None:
    """The glossary term a word of ``text`` (stemmed to ``token``) misspells, if one is close."""
    for word in re.findall(r"[A-Za-z]{5,}", text):
        if vocabulary.stem(word) == token:
            close = difflib.get_close_matches(
                word.lower(), _latin_forms().keys(), n=1, cutoff=SPELLING_CUTOFF
            )
            return _latin_forms()[close[0]] if close else None
    return None


def query_tokens(query: str) -> list[str]:
    """Every token the query's clauses name, each once (the similar-questions search reads these)."""
    return _unique(
        token for clause in plan(query).clauses for option in clause.options for token in option
    )[: MAX_QUERY_TOKENS * 2]


def _tsquery_text(clauses: list[Clause], *, joiner: str = " & ") -> str:
    parts = []
    for clause in clauses:
        options = [" & ".join(option) for option in clause.options]
        parts.append("(" + " | ".join(f"({option})" for option in options) + ")")
    return joiner.join(parts)


def ts_query(clauses: list[Clause], *, joiner: str = " & ") -> SearchQuery:
    return SearchQuery(_tsquery_text(clauses, joiner=joiner), config="simple", search_type="raw")


# ---- matching -----------------------------------------------------------

# Ranking reads every candidate's stored vector, so it is given the best
# matches by boost; a page says when there were more.
MAX_CANDIDATES = 250
# How many of the best public questions a search walks first, testing each,
# before it asks the GIN index for every match.
RECENT_WINDOW = 1500
# Fewer matches than this, and the query is tried again, looser (_relaxations).
RELAX_BELOW = 5
ACTIVITY = ("-last_activity_at", "-pk")
BEST = ("-search_boost", *ACTIVITY)


@dataclass
class Matches:
    """The ids of up to MAX_CANDIDATES matching questions, best by boost first."""

    ids: list[int]
    more: bool  # matches beyond MAX_CANDIDATES were left out
    public: int  # how many of ``ids`` are published questions
    plan: Plan = field(default_factory=Plan)
    title_ids: list[int] = field(default_factory=list)  # those matching in the title (SQLite)
    loose_ids: list[int] = field(default_factory=list)  # found by a looser query: after the rest


@contextmanager
def _without_seqscan():
    """Run PostgreSQL queries with sequential scans off, for this transaction only.

    The planner costs the ``@@`` test on a row as nearly free, and would scan
    the whole table rather than read the GIN index.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        yield


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


def _clauses_share(clauses: list[Clause]) -> float:
    """At most the share of questions meeting every clause: that of the rarest clause."""
    shares, floor = _lexeme_shares()

    def clause_share(clause: Clause) -> float:
        # A term's token and its words as typed are nearly always in the same texts.
        return max(_share(option) for option in clause.options)

    return min((clause_share(clause) for clause in clauses), default=floor)


# The best public questions by boost (the partial index question_public_best),
# then the matches among them in the same order: the scan stops as soon as
# enough are found. Written out because the ORM cannot select from a
# subquery; the planner, guessing few matches, would otherwise read the
# whole window to sort it.
_WINDOW_MATCHES = """
    SELECT id FROM (
        SELECT id, search_boost, last_activity_at, search_vector FROM forum_question
        WHERE state = %s AND deleted_at IS NULL
        ORDER BY search_boost DESC, last_activity_at DESC, id DESC
        LIMIT %s
    ) AS best
    WHERE search_vector @@ to_tsquery('simple'::regconfig, %s)
    ORDER BY search_boost DESC, last_activity_at DESC, id DESC
    LIMIT %s
"""


def _window_matches(text: str, limit: int) -> list[int] | None:
    """Up to ``limit`` best matches among the RECENT_WINDOW best public questions.

    The window is in boost order, so its matches are the best of all
    matches: enough of them (WALK_ENOUGH) make the candidates. None when
    there are fewer: the words are rarer than the statistics said (or the
    forum is small), and the GIN index must find the matches.
    """
    from forum.models import PostState

    with connection.cursor() as cursor:
        cursor.execute(_WINDOW_MATCHES, [PostState.PUBLISHED.value, RECENT_WINDOW, text, limit])
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) >= min(WALK_ENOUGH, limit) else None


# Matches in the window that make enough candidates without the GIN index:
# the best two pages and more.
WALK_ENOUGH = 60


def _postgres_matches(public: QuerySet, clauses: list[Clause], *, walk: bool = True) -> tuple:
    """(up to MAX_CANDIDATES published matches best by boost, whether there are more).

    A word found in many questions (“化疗”, in two of three here) must not
    make a search read every match: fetched through the GIN index to be
    sorted, the 28,000 matches of a word in 100,000 questions took 400 ms.
    For words the statistics say are common, the search walks the
    RECENT_WINDOW best questions in boost order, testing each, and stops at
    MAX_CANDIDATES matches; rarer words, or ones the walk found too few of,
    go to the GIN index, which is then quick because the matches are few.
    """
    limit = MAX_CANDIDATES + 1
    # The walk reads all public questions: not for a search narrowed to a facet.
    # Words the statistics do not list are rarer than the least listed one
    # (about one question in twenty): the index finds them faster (docs/BENCHMARKS.md).
    share = _clauses_share(clauses)
    if walk and share > _lexeme_shares()[1] and share * RECENT_WINDOW >= WALK_ENOUGH:
        walked = _window_matches(_tsquery_text(clauses), limit)
        if walked is not None:
            # Matches may lie beyond the window, with less boost.
            return walked[:MAX_CANDIDATES], True
    found = public.filter(search_vector=ts_query(clauses)).order_by(*BEST)
    ids = list(found.values_list("pk", flat=True)[:limit])
    return ids[:MAX_CANDIDATES], len(ids) > MAX_CANDIDATES


def _sqlite_filter(clauses: list[Clause]) -> Q:
    condition = Q()
    for clause in clauses:
        met = Q()
        for option in clause.options:
            every = Q()
            for token in option:
                every &= Q(search_document__contains=f" {token} ")
            met |= every
        condition &= met
    return condition


def _title_matches(title: str, clauses: list[Clause]) -> bool:
    tokens = set(document(title).split())
    return all(any(set(option) <= tokens for option in clause.options) for clause in clauses)


def _find(public: QuerySet, extra: QuerySet | None, clauses: list[Clause], walk: bool) -> tuple:
    """(public ids, more, the viewer's own unpublished ids, public title-match ids)."""
    limit = MAX_CANDIDATES + 1
    if connection.vendor == "postgresql":
        with _without_seqscan():
            ids, more = _postgres_matches(public, clauses, walk=walk)
            own = []
            if extra is not None:
                own_found = extra.filter(search_vector=ts_query(clauses)).order_by(*ACTIVITY)
                own = list(own_found.values_list("pk", flat=True)[:limit])
        return ids, more, own, []
    rows = list(
        public.filter(_sqlite_filter(clauses)).order_by(*BEST).values_list("pk", "title")[:limit]
    )
    more = len(rows) > MAX_CANDIDATES
    rows = rows[:MAX_CANDIDATES]
    titled = [pk for pk, title in rows if _title_matches(title, clauses)]
    own = []
    if extra is not None:
        own = list(
            extra.filter(_sqlite_filter(clauses))
            .order_by(*ACTIVITY)
            .values_list("pk", flat=True)[:limit]
        )
    return [pk for pk, _title in rows], more, own, titled


def matches(
    query: str, *, extra: QuerySet | None = None, within: QuerySet | None = None
) -> Matches:
    """The published questions (and those of ``extra``) matching ``query``.

    ``extra`` is the few unpublished questions the searcher may also see
    (their own, or all for moderators); ``within`` narrows the published
    ones (a category or tag chosen on the results page).
    """
    from forum.models import Question

    found_plan = plan(query)
    clauses = found_plan.clauses
    if not clauses:
        return Matches([], more=False, public=0, plan=found_plan)
    public = within if within is not None else Question.objects.published()
    ids, more, own, titled = _find(public, extra, clauses, walk=within is None)
    loose_ids = []
    for relaxed in _relaxations(found_plan) if len(ids) < RELAX_BELOW else ():
        if len(ids) + len(loose_ids) >= RELAX_BELOW:
            break
        loose, loose_more, _own, loose_titled = _find(public, None, relaxed, walk=within is None)
        found_ids = set(ids) | set(loose_ids)
        loose_ids += [pk for pk in loose if pk not in found_ids]
        more = more or loose_more
        titled += loose_titled
    ids += loose_ids[: MAX_CANDIDATES - len(ids)]
    own = [pk for pk in own if pk not in ids][:MAX_CANDIDATES]
    more = more or len(own) > MAX_CANDIDATES
    return Matches(ids + own, more, len(ids), found_plan, titled, loose_ids)


# A query of at most this many clauses that finds too little is tried again
# without each clause in turn.
DROP_ONE_MAX = 4


def _relaxations(found_plan: Plan) -> list[list[Clause]]:
    """Looser forms of a query that found too little, closest first.

    Every clause but one (a word the answer does not use), then the glossary
    terms alone (a patient's whole sentence).
    """
    clauses, concepts = found_plan.clauses, found_plan.concept_clauses
    looser = []
    if 2 <= len(clauses) <= DROP_ONE_MAX:
        # A plain word goes before a glossary term, and the terms never all go.
        dropped = sorted(clauses, key=lambda clause: clause in concepts)
        for clause in dropped:
            kept = [other for other in clauses if other is not clause]
            if not concepts or any(other in concepts for other in kept):
                looser.append(kept)
    if concepts and len(concepts) < len(clauses) and concepts not in looser:
        looser.append(concepts)
    return looser


def among(ids: list[int]):
    """A value for ``pk__in``: on PostgreSQL one array parameter, not one per id."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


# How much a perfect text match (in the title) weighs against the boost.
TEXT_WEIGHT = 25


def ranked(questions: QuerySet, found: Matches) -> QuerySet:
    """``questions`` (the matches), best first.

    PostgreSQL: boost plus the text rank, in which the title weighs most.
    SQLite: title matches first, then by boost.
    """
    if not found.plan.clauses:
        return questions.order_by(*BEST)
    first = []
    if found.loose_ids:
        # What met every clause comes before what a looser query found.
        questions = questions.annotate(loose=_flag(found.loose_ids))
        first.append("loose")
    if connection.vendor != "postgresql":
        return questions.annotate(titled=_flag(found.title_ids)).order_by(*first, "-titled", *BEST)
    # Each clause counts once: a Chinese text would otherwise score a term
    # twice (its token and the characters as typed), an English one once.
    counted = [Clause([clause.ranked_by]) for clause in found.plan.clauses]
    rank = SearchRank(
        F("search_vector"), ts_query(counted, joiner=" | "), weights=[0.1, 0.2, 0.4, 1.0]
    )
    return questions.annotate(rank=F("search_boost") + rank * TEXT_WEIGHT).order_by(
        *first, "-rank", *ACTIVITY
    )


def _flag(ids: list[int]) -> Case:
    return Case(
        When(pk__in=among(ids) if ids else [0], then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


# ---- what the reader sees -----------------------------------------------


@functools.lru_cache(maxsize=256)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern | None:
    """Each word as written, an English one with any ending (its stem and more letters)."""
    pieces = set()
    for word in words:
        word = word.strip()
        if not word:
            continue
        if re.fullmatch(r"[A-Za-z]{4,}", word):
            # The letters the word shares with its stem, then any ending:
            # "therapy" (stem "therapi") marks "therapies" too.
            shared = os.path.commonprefix([vocabulary.stem(word), word.lower()])
            pieces.add(rf"\b{re.escape(shared if len(shared) >= 4 else word)}\w*")
        elif re.fullmatch(r"[\w-]+", word) and not _CJK_RUN.match(word):
            pieces.add(rf"\b{re.escape(word)}\b")
        else:
            pieces.add(re.escape(word))
    if not pieces:
        return None
    return re.compile("|".join(sorted(pieces, key=len, reverse=True)), re.IGNORECASE)


def highlight(text: str, query: str | Plan, *, length: int = 180) -> str:
    """An escaped snippet of ``text`` around the first match, matches in <mark>.

    Given a query's ``Plan``, it marks the glossary forms searched too: an
    English query's answer written in Chinese shows where 奥沙利铂 is.
    """
    found_plan = query if isinstance(query, Plan) else None
    if found_plan is None:
        words = [word for word in (query or "").split() if word.strip()][:MAX_QUERY_TOKENS]
    else:
        words = found_plan.words
    text = " ".join((text or "").split())
    pattern = _word_pattern(tuple(words))
    if pattern is None:
        return escape(text[:length])
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


# ---- results kept for everyone who sees the same ones -------------------

# Queries longer than this are searched afresh every time: the common ones
# are short, and a cache key per long sentence would only fill Redis.
CACHED_QUERY_MAX = 64


@dataclass
class Row:
    """One result's row as every reader sees it, except its author and moderators."""

    question_id: int
    html: str
    # Who sees it otherwise: the asker of an anonymous question, named to them.
    anonymous_asker_id: int | None = None


@dataclass
class Kept:
    """A search's results as everyone but moderators sees them, apart from the rows.

    Plain data, kept in the shared cache: what the results page reads of
    ``selectors.SearchResults`` (the facets are its ``Facet``s), and the
    query's plan, to look for the reader's own unpublished questions.
    """

    count: int
    more: bool
    kept: int
    expansions: list[tuple[str, list[str]]]
    plan: Plan
    facets: list = field(default_factory=list)


def cache_key(*, query: str, category: str, tag: str) -> str | None:
    """Where the results of this search are kept now, or None: searched afresh.

    Keyed by the forum's version (``forum.listcache``), so every change a
    visitor could see starts new entries, and by the language and time zone
    the facets and rows are written in. None while the shared cache is
    unreachable, for a long query, or when ``SHUKANG_SEARCH_CACHE`` is off
    (which keeps no rows either, ``result_rows``).
    """
    if not getattr(settings, "SHUKANG_SEARCH_CACHE", True) or len(query) > CACHED_QUERY_MAX:
        return None
    current = listcache.version()
    if current is None:
        return None
    parts = (
        "search",
        str(current),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        query,
        category,
        tag,
    )
    return "search:" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def kept_get(key: str) -> Kept | None:
    return cache.get(key)


def rows_get(key: str, number: int) -> list[Row] | None:
    return cache.get(f"{key}:{number}")


def kept_store(key: str, results, number: int, rows: list[Row]) -> Kept:
    """Keep a search's shared results (``selectors.SearchResults``) and a page of its rows."""
    kept = Kept(
        results.count,
        results.more,
        results.kept,
        results.expansions,
        results.plan,
        list(results.facets),
    )
    cache.set_many({key: kept, f"{key}:{number}": rows}, listcache.TIMEOUT)
    return kept


@functools.cache
def _marks() -> tuple[str, str]:
    """Where a row's marked title and snippet go in its HTML kept for every search.

    The same in every process of the site, which share the kept rows
    (``result_rows``), and unguessable without the secret key; a post's
    text is escaped in the row, so it could not hold one anyway.
    """
    mark = salted_hmac("forum.search.result_rows", "marks", algorithm="sha256").hexdigest()[:32]
    return f"<!--title:{mark}-->", f"<!--snippet:{mark}-->"


def _row_key(version, question_id: int, title: bool, snippet: bool) -> str:
    parts = (
        "search-row",
        str(version),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        str(question_id),
        f"{title:d}{snippet:d}",
    )
    return ":".join(parts)


def result_rows(questions, tags: dict, found_plan: Plan, viewer) -> list[Row]:
    """Each question's row on the results page as ``viewer`` sees it, the matches marked.

    ``tags`` are each question's tags by name, by its id.

    ``forum/_question_row.html`` names the author as the viewer may see
    them (``author_name``): anyone but the asker of an anonymous question
    and moderators sees the same row. Rendering the rows is most of a fresh
    search's time, and a question's row is the same in every search but
    for its marked title and snippet: rows as visitors see them are kept in
    the shared cache under the forum's version with a mark in their place,
    so a search that finds a question already shown renders it no more.
    """
    keep = getattr(settings, "SHUKANG_SEARCH_CACHE", True) and not viewer.is_authenticated
    version = listcache.version() if keep else None
    marked = [
        (
            question,
            highlight(question.title, found_plan, length=200),
            highlight(question.body, found_plan),
        )
        for question in questions
    ]
    keys = {}
    if version is not None:
        keys = {
            question.pk: _row_key(version, question.pk, bool(title), bool(snippet))
            for question, title, snippet in marked
        }
    kept = cache.get_many(list(keys.values())) if keys else {}
    title_mark, snippet_mark = _marks()
    fresh = {}
    rows = []
    for question, title, snippet in marked:
        key = keys.get(question.pk)
        html = kept.get(key)
        if html is None:
            html = render_to_string(
                "forum/_question_row.html",
                {
                    "question": question,
                    "tags": tags[question.pk],
                    "title_html": title and title_mark,
                    "snippet": snippet and snippet_mark,
                    "user": viewer,
                },
            )
            if key is not None:
                fresh[key] = html
        html = html.replace(title_mark, title, 1).replace(snippet_mark, snippet, 1)
        asker = question.author_id if question.is_anonymous else None
        rows.append(Row(question.pk, html, asker))
    if fresh:
        cache.set_many(fresh, listcache.TIMEOUT)
    return rows


def rows_html(rows: list[Row]) -> list[str]:
    """The rows as the results page prints them: HTML rendered by ``result_rows``."""
    return [mark_safe(row.html) for row in rows]  # noqa: S308 - a template's escaped output


def sees_shared(viewer, kept: Kept, rows: list[Row], *, narrowed: bool) -> bool:
    """Whether ``viewer``, no moderator, sees the shared results and rows unchanged.

    Not if a row is their anonymous question (they see their name on it),
    nor if their own unpublished questions match, which they alone see
    ranked among the rest; a search narrowed to a facet shows published
    questions only.
    """
    if not viewer.is_authenticated:
        return True
    if any(row.anonymous_asker_id == viewer.pk for row in rows):
        return False
    return narrowed or not _own_unpublished_match(viewer, kept.plan.clauses)


def _own_unpublished_match(viewer, clauses: list[Clause]) -> bool:
    """Whether one of the viewer's unpublished questions meets every clause: one query.

    The same test ``matches`` puts to them (``selectors.question_search``'s ``extra``).
    """
    from forum.models import PostState, Question

    if not clauses:
        return False
    own = Question.objects.live().filter(
        author=viewer, state__in=[state for state in PostState if state != PostState.PUBLISHED]
    )
    if connection.vendor == "postgresql":
        own = own.filter(search_vector=ts_query(clauses))
    else:
        own = own.filter(_sqlite_filter(clauses))
    return own.exists()
