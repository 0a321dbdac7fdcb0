"""Measure whether the visitor's search finds the questions that answer a query.

Usage (from the repository root, with the project's virtualenv; about 40
seconds on SQLite, a minute on PostgreSQL):

    .venv/bin/python bench/search_relevance.py [--commit REV]
    .venv/bin/python bench/search_relevance.py \
        --database-url postgres://postgres@127.0.0.1:5432/shukang_bench_relevance
    .venv/bin/python bench/search_relevance.py --show-relevant "oxaliplatin numbness"

Issue 12 asks for relevance, not only speed: success@5 of at least 0.9 over
all queries, and at least 0.85 for English queries whose answers are written
only in Chinese (en→zh) and for the reverse (zh→en).

The labelled data live in bench/relevance/: questions.toml holds hand-written
question scenarios in Chinese and English with their topics, expanded
deterministically into a forum of about 2,600 questions (four in five in
Chinese); queries.toml holds the queries, each with its kind and the topics
a question must carry to answer it (the rule is stated at its top). Both
files say how they are built.

Like the other benches it copies the working tree, or --commit REV with
`git archive` (bench/search_relevance.py and bench/relevance/ then come from
the working tree), to a temporary folder and runs the project there with
production settings (DJANGO_DEBUG=false, a throwaway secret key). The
database is fresh: SQLite in the temporary folder by default, or the
PostgreSQL database named by --database-url, which it creates (it refuses
one that exists) and drops at the end. After `migrate` it runs itself inside
the copy to seed the forum and query it:

- accounts through accounts.services.account_create (patients, and verified
  doctors with specialties);
- questions, tags, follows, answers, thanks and accepted answers written
  through the ORM with the columns forum.services fills, all published;
  then every question goes through the services' own recount
  (forum.services._refresh_question at the time of writing), which counts
  the answers and rebuilds the search document and vector as a published
  answer would; a commit with a management command whose name says
  search and index (or reindex) gets it run too; on PostgreSQL, VACUUM
  ANALYZE.
- each query goes through forum.selectors.question_search(viewer=
  AnonymousUser(), query=q), as the search page calls it, and its results
  are read in the page's order (`.questions`, or the result itself if it is
  a sequence), first --cutoff of them.

Reported per query kind and over all queries: success@5, the share of
queries with at least one relevant question among the first five results;
and MRR, the mean over queries of 1/rank of the first relevant result, 0 when
none is in the first --cutoff (10). Then every query that missed (no
relevant question in the first five) with its number of relevant questions,
how many the search matched, and the first five titles it showed.

It exits non-zero on errors only, never on low scores; the last line says
whether the issue's goal is met.
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import tomllib
import zlib
from collections import Counter
from datetime import timedelta
from pathlib import Path

DATA = Path(__file__).resolve().parent / "relevance"
SEED = 2026
GOAL_ALL = 0.9
GOAL_CROSS = 0.85
CROSS_KINDS = ("en→zh", "zh→en")
KIND_LANG = {"en→zh": "zh", "zh→en": "en"}
KIND_ORDER = [
    "zh",
    "en",
    "en→zh",
    "zh→en",
    "mixed",
    "abbreviation",
    "patient",
    "misspelling",
    "inflection",
]
STATUSES = ["unanswered", "answered", "accepted", "thanked", "accepted+thanked"]
# Which section a question goes to: the first of its topics found here.
CATEGORY_BY_TOPIC = [
    ("gist", "gist"),
    ("net", "gep-net"),
    ("gastric", "gastric-cancer"),
    ("colorectal", "colorectal-cancer"),
    ("liver", "hepatobiliary-pancreatic-cancer"),
    ("pancreatic", "hepatobiliary-pancreatic-cancer"),
    ("biliary", "hepatobiliary-pancreatic-cancer"),
]
FALLBACK_CATEGORY = "living-with-cancer"
# Tags an asker would pick for a topic (the tags of forum migration 0002).
TAG_BY_TOPIC = {
    "chemo": "chemotherapy",
    "targeted": "targeted-therapy",
    "immunotherapy": "immunotherapy",
    "hipec": "hyperthermia-hipec",
    "interventional": "interventional-therapy",
    "diet": "nutrition",
    "surgery": "surgery",
    "radiotherapy": "radiotherapy",
    **dict.fromkeys(
        [
            "neuropathy",
            "hfs",
            "nausea",
            "diarrhoea",
            "mucositis",
            "neutropenia",
            "thrombocytopenia",
            "fatigue",
            "hair-loss",
            "constipation",
            "rash",
            "hypertension",
            "oedema",
        ],
        "side-effects",
    ),
}
RECOUNT_NAMES = ("_refresh_question", "question_recount", "question_refresh", "_question_recount")


# Data: pure functions, used outside the copy (--show-relevant) and inside it.


def load() -> tuple[dict, list[dict]]:
    with (DATA / "questions.toml").open("rb") as f:
        forum = tomllib.load(f)
    with (DATA / "queries.toml").open("rb") as f:
        queries = tomllib.load(f)["query"]
    return forum, queries


def expand(forum: dict) -> list[dict]:
    """Every question of the labelled forum, from its scenarios, in a stable order."""
    questions, seen = [], set()
    for scenario in forum["scenario"]:
        key, lang = scenario["key"], scenario["lang"]
        spin = zlib.crc32(key.encode())
        whos = [
            who
            for who in forum[f"who_{lang}"]
            if who["who"] in scenario.get("askers", [who["who"]])
        ]
        titles = scenario["titles"]
        cancers = scenario.get("cancers") or [None]
        contexts = forum["context"][lang]
        generic = forum["generic_answers"][lang]
        for n in range(scenario.get("variants", forum["expand"][lang])):
            rng = random.Random(f"{key}/{n}")
            who = whos[(spin + n) % len(whos)]
            cancer = cancers[(spin + n // len(titles)) % len(cancers)]
            slots = {k: v for k, v in who.items() if k not in ("ages", "asker")}
            if lang == "en":
                slots.update({k.capitalize(): slots[k] for k in ("they", "their", "them")})
            slots.update(
                age=rng.randint(*who["ages"]),
                cycle=rng.randint(2, 8),
                months=rng.randint(2, 30),
            )
            topics = set(scenario["topics"])
            if cancer:
                slots["cancer"] = forum["cancer"][cancer][lang]
                topics.update(forum["cancer"][cancer]["topics"])
            title = titles[n % len(titles)].format_map(slots)
            body = scenario["body"].format_map(slots)
            context = contexts[(spin + n // len(whos)) % len(contexts)]
            if context:
                body += (" " if lang == "en" else "") + context
            if (title, body) in seen:
                continue
            seen.add((title, body))
            status = STATUSES[(spin + n) % len(STATUSES)]
            answers = []
            if status != "unanswered":
                answers.append(scenario.get("answer") or generic[(spin + n) % len(generic)])
                if n % 3 == 0:
                    answers.append(generic[(spin + n + 1) % len(generic)])
            questions.append(
                {
                    "key": f"{key}/{n:02d}",
                    "lang": lang,
                    "title": title,
                    "body": body,
                    "topics": sorted(topics),
                    "asker": who["asker"],
                    "status": status,
                    "answers": answers,
                    "tagged": (spin + n) % 2 == 0,
                }
            )
    return questions


def relevant(query: dict, questions: list[dict]) -> set[str]:
    """The keys of the questions that answer ``query`` (the rule of queries.toml)."""
    wanted = set(query["topics"])
    lang = KIND_LANG.get(query["kind"])
    return {
        q["key"]
        for q in questions
        if wanted <= set(q["topics"]) and (lang is None or q["lang"] == lang)
    }


def problems(queries: list[dict], questions: list[dict]) -> list[str]:
    """What makes the labelled set unfit to measure with: each a sentence."""
    found = []
    for query in queries:
        if query["kind"] not in KIND_ORDER:
            found.append(f"{query['q']!r}: unknown kind {query['kind']!r}")
        if not relevant(query, questions):
            found.append(f"{query['q']!r}: no question answers it")
        lang = KIND_LANG.get(query["kind"])
        if lang:
            # A cross-language query is answered only in the other language:
            # a question in its own language on the same topics would rank
            # first in a good search and make the query measure nothing.
            wanted = set(query["topics"])
            same = [q["key"] for q in questions if wanted <= set(q["topics"]) and q["lang"] != lang]
            if same:
                found.append(f"{query['q']!r} ({query['kind']}) is also answered by {same[0]}")
    return found


# Inside the copy: seed and search.


def probe(cutoff: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection

    from forum import selectors

    forum, queries = load()
    questions = expand(forum)
    started = time.monotonic()
    seeded = seed(questions)
    seeded["seed_seconds"] = round(time.monotonic() - started, 1)
    key_of = seeded.pop("key_of")

    results = []
    for query in queries:
        wanted = relevant(query, questions)
        started = time.perf_counter()
        found = selectors.question_search(viewer=AnonymousUser(), query=query["q"])
        ranked = getattr(found, "questions", found)
        shown = list(ranked[:cutoff])
        elapsed = time.perf_counter() - started
        keys = [key_of.get(question.pk, f"pk {question.pk}") for question in shown]
        rank = next((i for i, key in enumerate(keys, 1) if key in wanted), None)
        results.append(
            {
                "q": query["q"],
                "kind": query["kind"],
                "relevant": len(wanted),
                "matched": getattr(found, "count", None),
                "rank": rank,
                "ms": round(elapsed * 1000, 1),
                "top": [
                    {"key": key, "title": question.title, "relevant": key in wanted}
                    for key, question in zip(keys[:5], shown[:5], strict=True)
                ],
            }
        )
    seeded["vendor"] = connection.vendor
    print(json.dumps({"seeded": seeded, "results": results}, ensure_ascii=False))


def seed(questions: list[dict]) -> dict:
    """Write the labelled forum as the services would leave it; return what was written."""
    from django.core.management import call_command, get_commands
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.text import slugify

    from accounts.models import PhysicianProfile, User
    from accounts.services import account_create
    from core.markdown import render_markdown
    from forum import services
    from forum.models import Answer, Category, Follow, Question, Tag, Thanks

    rng = random.Random(SEED)
    categories = {category.slug: category for category in Category.objects.all()}
    tags = {tag.slug: tag for tag in Tag.objects.all()}
    patients = [
        account_create(
            email=f"relevance{i}@bench.example",
            password="labelled-forum-pass-7319",
            name=f"病友{i:02d}",
        )
        for i in range(30)
    ]
    listed = list(categories.values())
    doctors = [
        account_create(
            email=f"relevance-doctor{i}@bench.example",
            password="labelled-forum-pass-7319",
            role=User.Role.DOCTOR,
            verified=True,
            name=f"Dr. Relevance {i}",
            title=PhysicianProfile.Title.ATTENDING,
            licence_number=f"REL-{i:04d}",
            specialties=[listed[i % len(listed)], listed[(i + 1) % len(listed)]],
        )
        for i in range(len(listed))
    ]
    doctors_by_category = {}
    for doctor in doctors:
        for specialty in doctor.physician_profile.specialties.all():
            doctors_by_category.setdefault(specialty.pk, []).append(doctor)
    slug_of = getattr(services, "_question_slug", None) or (
        lambda title: slugify(title, allow_unicode=True)[:80].strip("-") or "q"
    )

    def category_for(topics: list[str]):
        for topic, slug in CATEGORY_BY_TOPIC:
            if topic in topics and slug in categories:
                return categories[slug]
        return categories.get(FALLBACK_CATEGORY) or listed[0]

    now = timezone.now()
    order = list(questions)
    rng.shuffle(order)  # ids and activity must not follow the scenarios
    plans = []
    for plan in order:
        created = now - timedelta(minutes=rng.randint(60, 720 * 24 * 60))
        category = category_for(plan["topics"])
        author = rng.choice(patients)
        moment = created
        answers = []
        for body in plan["answers"]:
            moment = min(moment + timedelta(minutes=rng.randint(30, 3000)), now)
            doctor = rng.choice(doctors_by_category.get(category.pk) or doctors)
            thankers = []
            if "thanked" in plan["status"] and not answers:
                thankers = rng.sample([p for p in patients if p != author], rng.randint(1, 3))
            answers.append((body, doctor, moment, thankers))
        question = Question(
            author=author,
            title=plan["title"],
            slug=slug_of(plan["title"]),
            body=plan["body"],
            body_html=render_markdown(plan["body"]),
            category=category,
            asker=plan["asker"],
            created_at=created,
            last_activity_at=moment,
        )
        wanted_tags = sorted(
            {TAG_BY_TOPIC[t] for t in plan["topics"] if t in TAG_BY_TOPIC} & set(tags)
        )
        plans.append((plan, question, answers, wanted_tags[:3] if plan["tagged"] else []))

    with transaction.atomic():
        Question.objects.bulk_create([question for _p, question, _a, _t in plans], batch_size=500)
        Question.tags.through.objects.bulk_create(
            [
                Question.tags.through(question_id=question.pk, tag_id=tags[slug].pk)
                for _p, question, _a, wanted in plans
                for slug in wanted
            ],
            batch_size=2000,
        )
        Follow.objects.bulk_create(
            [
                Follow(question=question, user=question.author, created_at=question.created_at)
                for _p, question, _a, _t in plans
            ],
            batch_size=2000,
        )
        rows = []
        for _plan, question, answers, _t in plans:
            for body, doctor, moment, thankers in answers:
                rows.append(
                    Answer(
                        question=question,
                        author=doctor,
                        body=body,
                        body_html=render_markdown(body),
                        created_at=moment,
                        thanks_count=len(thankers),
                    )
                )
        Answer.objects.bulk_create(rows, batch_size=500)
        by_question = {}
        for answer in rows:
            by_question.setdefault(answer.question_id, []).append(answer)
        thanks, accepted = [], []
        for plan, question, answers, _t in plans:
            written = by_question.get(question.pk, [])
            for answer, (_b, _d, _m, thankers) in zip(written, answers, strict=True):
                thanks.extend(
                    Thanks(answer=answer, user=user, created_at=answer.created_at)
                    for user in thankers
                )
            if "accepted" in plan["status"]:
                question.accepted_answer = written[0]
                accepted.append(question)
        Thanks.objects.bulk_create(thanks, batch_size=2000)
        Question.objects.bulk_update(accepted, ["accepted_answer"], batch_size=500)

        recount_name = next((name for name in RECOUNT_NAMES if hasattr(services, name)), None)
        if recount_name is None:
            raise SystemExit(
                f"forum.services has none of {', '.join(RECOUNT_NAMES)}: "
                "tell this bench how the services rebuild a question's search text"
            )
        recount = getattr(services, recount_name)
        for _plan, question, _a, _t in plans:
            recount(question)

    commands = sorted(
        name
        for name, app in get_commands().items()
        if app.startswith(("forum", "core"))
        and ("reindex" in name or ("search" in name and "index" in name))
    )
    for name in commands:
        call_command(name)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    languages = Counter(plan["lang"] for plan, *_ in plans)
    statuses = Counter(plan["status"] for plan, *_ in plans)
    return {
        "questions": Question.objects.count(),
        "zh": languages["zh"],
        "en": languages["en"],
        "answers": Answer.objects.count(),
        "statuses": dict(statuses),
        "tagged": sum(1 for *_x, wanted in plans if wanted),
        "recount": f"forum.services.{recount_name}",
        "commands": commands,
        "key_of": {question.pk: plan["key"] for plan, question, _a, _t in plans},
    }


# Outside the copy: prepare, run, report.


def show_relevant(text: str) -> None:
    forum, queries = load()
    questions = {q["key"]: q for q in expand(forum)}
    matching = [query for query in queries if query["q"] == text]
    if not matching:
        raise SystemExit(f"no query {text!r} in {DATA / 'queries.toml'}")
    for query in matching:
        keys = sorted(relevant(query, list(questions.values())))
        print(f"{query['q']} ({query['kind']}; topics {', '.join(query['topics'])}): {len(keys)}")
        for key in keys:
            print(f"  {key}  {questions[key]['title']}")


def scores(results: list[dict]) -> tuple[float, float]:
    if not results:
        return 0.0, 0.0
    success = sum(1 for r in results if r["rank"] and r["rank"] <= 5) / len(results)
    mrr = sum(1 / r["rank"] for r in results if r["rank"]) / len(results)
    return success, mrr


def report(output: dict, code: str, cutoff: int, database: str, started: float) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import http_servers as common  # noqa: PLC0415  (bench/ is not a package)

    seeded, results = output["seeded"], output["results"]
    statuses = seeded["statuses"]
    print(f"code: {code}")
    print(f"machine: {common.machine(['django', 'psycopg'])}")
    print(
        f"database: {database}; {seeded['questions']} questions ({seeded['zh']} Chinese, "
        f"{seeded['en']} English), {seeded['answers']} answers; "
        + ", ".join(f"{statuses.get(s, 0)} {s}" for s in STATUSES)
        + f"; {seeded['tagged']} tagged; recounted by {seeded['recount']}"
        + (f", then {', '.join(seeded['commands'])}" if seeded["commands"] else "")
        + f"; seeded in {seeded['seed_seconds']} s; whole run {time.monotonic() - started:.0f} s"
    )
    print(
        f"{len(results)} queries through forum.selectors.question_search as a visitor; "
        f"MRR counts the first relevant result within the first {cutoff}"
    )
    print()
    kinds = Counter(r["kind"] for r in results)
    rows = []
    for kind in [k for k in KIND_ORDER if k in kinds] + sorted(set(kinds) - set(KIND_ORDER)):
        mine = [r for r in results if r["kind"] == kind]
        success, mrr = scores(mine)
        rows.append((kind, str(len(mine)), f"{success:.2f}", f"{mrr:.2f}"))
    success, mrr = scores(results)
    rows.append(("all", str(len(results)), f"{success:.2f}", f"{mrr:.2f}"))
    common.table(("kind", "queries", "success@5", f"MRR@{cutoff}"), rows)

    misses = [r for r in results if not (r["rank"] and r["rank"] <= 5)]
    print()
    print(f"misses ({len(misses)}): no relevant question in the first five")
    for r in misses:
        matched = "?" if r["matched"] is None else r["matched"]
        rank = f", first relevant at {r['rank']}" if r["rank"] else ""
        print(
            f"- {r['q']!r} ({r['kind']}): {r['relevant']} relevant, {matched} matched{rank}"
            + ("" if r["top"] else ", nothing shown")
        )
        for shown in r["top"]:
            print(f"    {shown['key']}: {shown['title']}")
    cross = {kind: scores([r for r in results if r["kind"] == kind])[0] for kind in CROSS_KINDS}
    met = success >= GOAL_ALL and all(value >= GOAL_CROSS for value in cross.values())
    print()
    print(
        f"goal (success@5 >= {GOAL_ALL} over all, >= {GOAL_CROSS} for each of "
        f"{' and '.join(CROSS_KINDS)}): {'MET' if met else 'NOT MET'} "
        f"({success:.2f}; " + ", ".join(f"{k} {v:.2f}" for k, v in cross.items()) + ")"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Figures and how to read them: docs/BENCHMARKS.md, section Search relevance.",
    )
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="measure this commit (copied with git archive) instead of the working tree",
    )
    parser.add_argument(
        "--database-url",
        help="postgres://.../NAME on this machine, created and dropped (default: SQLite)",
    )
    parser.add_argument(
        "--cutoff", type=int, default=10, help="results read per query, and MRR's cut-off"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument(
        "--show-relevant",
        metavar="QUERY",
        help="list the questions that answer this query of queries.toml, and stop",
    )
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cutoff < 5:
        parser.error("--cutoff must be at least 5")
    if args.probe:
        probe(args.cutoff)
        return
    if args.show_relevant:
        show_relevant(args.show_relevant)
        return

    forum, queries = load()
    unfit = problems(queries, expand(forum))
    if unfit:
        raise SystemExit("the labelled set is inconsistent:\n" + "\n".join(unfit))

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import forum_http  # noqa: PLC0415  (bench/ is not a package)
    import http_servers as common  # noqa: PLC0415

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="shukang-relevance-bench-"))
    env = common.bench_environment(workdir)
    database = "SQLite"
    if args.database_url:
        if not args.database_url.startswith("postgres"):
            raise SystemExit("--database-url must name a PostgreSQL database")
        forum_http.create_database(args.database_url)
        env["DATABASE_URL"] = args.database_url
        database = "PostgreSQL"
    try:
        project = workdir / "project"
        code = common.copy_project(project, args.commit, scripts=("search_relevance.py",))
        shutil.copytree(DATA, project / "bench" / "relevance", dirs_exist_ok=True)
        print("... migrating, seeding and searching", file=sys.stderr, flush=True)
        forum_http.manage(project, env, "manage.py", "migrate", "--noinput", "-v0", timeout=600)
        output = json.loads(
            forum_http.manage(
                project,
                env,
                "bench/search_relevance.py",
                "--probe",
                "--cutoff",
                str(args.cutoff),
                timeout=1800,
            ).splitlines()[-1]
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if args.database_url:
            forum_http.drop_database(args.database_url)
    if args.json:
        args.json.write_text(json.dumps(output, ensure_ascii=False, indent=1))
    report(output, code, args.cutoff, database, started)


if __name__ == "__main__":
    main()
