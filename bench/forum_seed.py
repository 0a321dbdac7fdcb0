"""Fill a freshly migrated database with a forum of realistic size, quickly.

Run by bench/forum_http.py inside its private copy of the project, never on a
database that matters:

    DJANGO_SETTINGS_MODULE=config.settings python bench/forum_seed.py --questions 10000

Accounts come from accounts.services.account_create (patients, and verified
doctors with specialties), categories and tags from the migrations. Posts are
written with bulk_create for speed, but every column the services would fill
is filled the same way: body_html through core.markdown.render_markdown, the
slug through the services' own slug function, search_document through
forum.search.document(title, body, *published answer bodies), the counters
answer_count / reply_count / thanks_count and last_activity_at, one Follow
per asker, Thanks rows matching each answer's thanks_count, accepted answers
and tags. The text is generated from phrase lists in the forum's two
languages (about four questions in five in Chinese), so pages and the search
index see varied, plausible content. The generator is seeded: the same
arguments give the same forum.

Prints one JSON line: what was written, a question page with several answers
(its canonical URL) and how many questions the search word matches.
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import PhysicianProfile, User  # noqa: E402
from accounts.services import account_create  # noqa: E402
from core.markdown import render_markdown  # noqa: E402
from forum import search  # noqa: E402
from forum.models import Answer, Category, Follow, Question, Reply, Tag, Thanks  # noqa: E402
from forum.services import _question_slug  # noqa: E402

PASSWORD = "bench-seed-password-2026"
SEARCH_WORD = "化疗"  # "chemotherapy": in many questions and answers, not in all

# Per category: Chinese and English names, regimens, treatments and the tags
# that fit them.
TOPICS = {
    "gastric-cancer": {
        "zh": ["胃癌", "胃癌根治术后", "贲门癌"],
        "en": ["gastric cancer", "stomach cancer"],
        "regimens": ["SOX", "XELOX", "FLOT", "SOX联合PD-1"],
        "treatments": ["chemotherapy", "surgery", "immunotherapy", "hyperthermia"],
        "tags": ["chemotherapy", "surgery", "nutrition", "hyperthermia-hipec", "immunotherapy"],
    },
    "colorectal-cancer": {
        "zh": ["结肠癌", "直肠癌", "乙状结肠癌", "结直肠癌肝转移"],
        "en": ["colon cancer", "rectal cancer", "bowel cancer"],
        "regimens": ["XELOX", "FOLFOX", "FOLFIRI", "卡培他滨单药"],
        "treatments": ["chemotherapy", "surgery", "targeted", "radiotherapy"],
        "tags": ["chemotherapy", "side-effects", "surgery", "radiotherapy", "targeted-therapy"],
    },
    "hepatobiliary-pancreatic-cancer": {
        "zh": ["胰腺癌", "肝癌", "胆管癌", "胆囊癌"],
        "en": ["pancreatic cancer", "liver cancer", "bile duct cancer"],
        "regimens": ["AG方案", "GEMOX", "仑伐替尼", "TACE"],
        "treatments": ["chemotherapy", "interventional", "targeted", "surgery"],
        "tags": ["chemotherapy", "interventional-therapy", "side-effects", "clinical-trials"],
    },
    "gist": {
        "zh": ["胃肠间质瘤", "胃间质瘤", "小肠间质瘤"],
        "en": ["GIST", "gastric GIST"],
        "regimens": ["伊马替尼400mg", "伊马替尼600mg", "舒尼替尼", "瑞派替尼"],
        "en_regimens": ["imatinib 400 mg", "sunitinib"],
        "treatments": ["targeted", "surgery", "none"],
        "tags": ["targeted-therapy", "side-effects", "surgery"],
    },
    "gep-net": {
        "zh": ["神经内分泌肿瘤", "胰腺神经内分泌肿瘤", "直肠神经内分泌瘤"],
        "en": ["pancreatic NET", "neuroendocrine tumour"],
        "regimens": ["奥曲肽", "CAPTEM", "依维莫司", "PRRT"],
        "treatments": ["targeted", "chemotherapy", "other", "none"],
        "tags": ["clinical-trials", "targeted-therapy", "chemotherapy"],
    },
    "living-with-cancer": {
        "zh": ["肠癌术后", "胃癌术后", "肿瘤康复期"],
        "en": ["recovery after surgery", "life after treatment"],
        "regimens": ["", "", "口服化疗"],
        "en_regimens": ["capecitabine"],
        "treatments": ["none", "other", "chemotherapy"],
        "tags": ["nutrition", "side-effects", "chemotherapy"],
    },
}

WHO_ZH = [
    ("self", "我"),
    ("family", "妈妈"),
    ("family", "爸爸"),
    ("family", "老公"),
    ("family", "婆婆"),
    ("friend", "朋友"),
]
WHO_EN = [
    ("self", "I am"),
    ("family", "My mother is"),
    ("family", "My father is"),
    ("friend", "A friend is"),
]
SYMPTOMS_ZH = [
    "恶心呕吐",
    "手脚麻木",
    "腹泻",
    "乏力没精神",
    "白细胞偏低",
    "口腔溃疡",
    "晚上失眠",
    "食欲很差",
    "体重一直下降",
    "手足皮肤发红脱皮",
    "血小板低",
    "便秘",
    "脱发严重",
    "腹胀",
]
SYMPTOMS_EN = [
    "nausea",
    "numb fingers",
    "diarrhoea",
    "fatigue",
    "a low white cell count",
    "mouth ulcers",
    "poor appetite",
    "weight loss",
    "hand-foot skin reactions",
]
ASKS_ZH = [
    "怎么缓解",
    "需要停药吗",
    "正常吗",
    "要不要马上去医院",
    "饮食上要注意什么",
    "下个周期还能按时做吗",
    "要和主治医生说调整方案吗",
]
ASKS_EN = [
    "how can we ease it",
    "should the dose change",
    "is this normal",
    "when should we call the hospital",
]
QUESTIONS_ZH = [
    "饮食上有什么办法？",
    "需要和主治医生说调整方案吗？",
    "这种情况多久能恢复？",
    "要不要复查血常规？",
    "可以吃些中药调理吗？",
    "下次化疗前需要做哪些检查？",
    "平时运动要注意什么？",
    "这会影响疗效吗？",
]
ADVICE_ZH = [
    "**一定要告诉主治医生**：方案和剂量可以根据副作用调整，不要自己停药或减量。",
    "少量多餐，选择清淡、软烂、高蛋白的食物，例如鸡蛋、鱼肉、豆腐。",
    "每天称体重并记录，一周内下降超过2公斤请及时就诊。",
    "化疗期间每周复查一次血常规，白细胞低时注意防感染，避免去人多的地方。",
    "奥沙利铂相关的手脚麻木遇冷会加重，这段时间不要喝冰水、不要直接接触冷的东西。",
    "腹泻一天超过四次，或者伴有发热，请当天去医院。",
    "适度活动有帮助，每天散步二三十分钟，以不觉得劳累为准。",
    "口腔溃疡可以用软毛牙刷，饭后用淡盐水或医生开的漱口水漱口。",
    "睡眠不好时先调整作息，必要时请医生开短期的助眠药物。",
    "中药和保健品可能影响化疗药物的代谢，服用前请先和主治医生确认。",
]
CLOSINGS_ZH = [
    "如果出现高烧、持续呕吐或者无法进食进水，请尽快就医。",
    "这些情况大多数是可以处理的，复诊时把记录带给医生看。",
    "网上的回答不能代替面诊，具体方案请以主治医生为准。",
    "这是化疗中很常见的反应，多数在停药后几周内逐渐好转。",
]
ADVICE_EN = [
    "**Tell the treating team**: the dose or the schedule can be adjusted for side effects.",
    "Small meals five or six times a day, soft and protein-rich, are easier than three large ones.",
    "Weigh yourself daily; losing more than 2 kg in a week is a reason to call the hospital.",
    "A blood count before each cycle shows whether the next one can go ahead on time.",
    "Keep moving a little every day: a short walk helps with fatigue more than rest alone.",
    "Fever above 38 °C during chemotherapy always needs a call to the hospital the same day.",
]
REPLIES_ZH = [
    "谢谢医生，复诊时我会和主治医生说。",
    "我家里人也是这样，后来调整了方案好多了。",
    "请问复查血常规要空腹吗？",
    "按医生说的少量多餐，这周好一些了。",
    "同问，我们也是第三个周期。",
    "谢谢分享，很有帮助！",
    "我爸爸化疗时喝点姜茶、吃苏打饼干会好一些，供参考。",
]
REPLIES_EN = [
    "Thank you, doctor, this helps a lot.",
    "Same here after cycle four; it did get better.",
    "Do we need to fast before the blood test?",
    "Thanks for sharing your experience.",
]


def zh_question(rng: random.Random, topic: dict) -> tuple[str, str, dict]:
    asker, who = rng.choice(WHO_ZH)
    cancer = rng.choice(topic["zh"])
    regimen = rng.choice(topic["regimens"])
    cycle = rng.randint(1, 8) if regimen else None
    symptom = rng.choice(SYMPTOMS_ZH)
    phase = f"{regimen}第{cycle}周期后" if regimen else "术后"
    title = f"{who}{cancer}，{phase}{symptom}，{rng.choice(ASKS_ZH)}？"
    age = rng.randint(32, 82)
    asks = rng.sample(QUESTIONS_ZH, rng.randint(2, 3))
    body = (
        f"{who}今年{age}岁，{cancer}，{rng.randint(1, 18)}个月前确诊，"
        + (f"现在在做{regimen}方案化疗，已经是第{cycle}个周期。" if regimen else "目前在定期复查。")
        + f"最近{rng.randint(2, 14)}天{symptom}，{rng.choice(['吃不下饭', '晚上睡不好', '人很没精神', '体重掉了两公斤'])}，"
        + "医生开的药按医嘱吃了。\n\n请问：\n\n"
        + "\n".join(f"- {ask}" for ask in asks)
    )
    return title, body, {"asker": asker, "regimen": regimen, "cycle": cycle}


def en_question(rng: random.Random, topic: dict) -> tuple[str, str, dict]:
    asker, who = rng.choice(WHO_EN)
    cancer = rng.choice(topic["en"])
    regimen = rng.choice(
        topic.get("en_regimens") or [r for r in topic["regimens"] if r.isascii() and r]
    )
    cycle = rng.randint(1, 8)
    symptom = rng.choice(SYMPTOMS_EN)
    title = f"{cancer[0].upper()}{cancer[1:]}, cycle {cycle} of {regimen}: {symptom}, {rng.choice(ASKS_EN)}?"
    body = (
        f"{who} {rng.randint(35, 80)} and on cycle {cycle} of {regimen} for {cancer}. "
        f"For the last {rng.randint(2, 10)} days there has been {symptom}, and eating is hard.\n\n"
        "- What can we do at home?\n- Should we tell the oncologist before the next cycle?"
    )
    return title, body, {"asker": asker, "regimen": regimen, "cycle": cycle}


def zh_answer(rng: random.Random) -> str:
    lines = rng.sample(ADVICE_ZH, rng.randint(2, 4))
    return (
        f"{rng.choice(['这种情况在化疗期间很常见', '您描述的症状多数可以处理', '先别太担心'])}，可以这样做：\n\n"
        + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
        + "\n\n"
        + rng.choice(CLOSINGS_ZH)
    )


def en_answer(rng: random.Random) -> str:
    lines = rng.sample(ADVICE_EN, rng.randint(2, 4))
    return (
        "This is common and usually manageable:\n\n"
        + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
        + "\n\nAn online answer cannot replace a consultation with the doctors who treat you."
    )


def answers_for(rng: random.Random) -> int:
    return rng.choices([0, 1, 2, 3, 4, 5, 6], weights=[25, 35, 20, 11, 5, 2, 2])[0]


def accounts(patients: int, doctors: int) -> tuple[list[User], list[User]]:
    categories = list(Category.objects.all())
    people = [
        account_create(email=f"patient{i}@bench.example", password=PASSWORD, name=f"病友{i:02d}")
        for i in range(patients)
    ]
    titles = list(PhysicianProfile.Title.values)
    physicians = [
        account_create(
            email=f"doctor{i}@bench.example",
            password=PASSWORD,
            role=User.Role.DOCTOR,
            verified=True,
            name=f"Dr. Bench {i}",
            title=titles[i % len(titles)],
            licence_number=f"BENCH-{i:04d}",
            specialties=[categories[i % len(categories)], categories[(i + 1) % len(categories)]],
        )
        for i in range(doctors)
    ]
    return people, physicians


def seed(questions_wanted: int, patients_wanted: int, doctors_wanted: int, seed: int) -> dict:
    rng = random.Random(seed)
    started = time.monotonic()
    patients, doctors = accounts(patients_wanted, doctors_wanted)
    timings = {"accounts": time.monotonic() - started}
    categories = {category.slug: category for category in Category.objects.all()}
    tags = {tag.slug: tag for tag in Tag.objects.all()}
    doctors_by_category = {
        slug: [
            doctor
            for doctor in doctors
            if doctor.physician_profile.specialties.filter(slug=slug).exists()
        ]
        or doctors
        for slug in categories
    }
    now = timezone.now()
    span = timedelta(days=730)
    stages = [value for value in Question.Stage.values]

    # Build everything in memory first; each post keeps what its question needs.
    plans = []
    for index in range(questions_wanted):
        slug = rng.choice(list(TOPICS))
        topic = TOPICS[slug]
        chinese = rng.random() < 0.8
        title, body, extra = (zh_question if chinese else en_question)(rng, topic)
        created = (
            now - span + span * (index / questions_wanted) + timedelta(seconds=rng.randint(0, 600))
        )
        author = rng.choice(patients)
        answer_plans = []
        moment = created
        for _ in range(answers_for(rng)):
            moment = min(moment + timedelta(minutes=rng.randint(20, 3000)), now)
            answer_body = zh_answer(rng) if chinese else en_answer(rng)
            thankers = rng.sample(
                [p for p in patients if p.pk != author.pk], rng.choice([0, 0, 1, 1, 2, 3, 4])
            )
            replies = []
            for _ in range(rng.choices([0, 1, 2], weights=[70, 22, 8])[0]):
                moment = min(moment + timedelta(minutes=rng.randint(5, 600)), now)
                replies.append(
                    (
                        rng.choice([author, *patients[:3]]),
                        rng.choice(REPLIES_ZH if chinese else REPLIES_EN),
                        moment,
                    )
                )
            answer_plans.append(
                {
                    "author": rng.choice(doctors_by_category[slug]),
                    "body": answer_body,
                    "created": moment,
                    "thankers": thankers,
                    "replies": replies,
                }
            )
        question_replies = []
        for _ in range(rng.choices([0, 1, 2], weights=[80, 15, 5])[0]):
            moment = min(moment + timedelta(minutes=rng.randint(5, 900)), now)
            question_replies.append(
                (rng.choice(patients), rng.choice(REPLIES_ZH if chinese else REPLIES_EN), moment)
            )
        question = Question(
            author=author,
            title=title,
            slug=_question_slug(title),
            body=body,
            body_html=render_markdown(body),
            category=categories[slug],
            is_anonymous=rng.random() < 0.15,
            asker=extra["asker"],
            stage=rng.choice(stages),
            treatment=rng.choice(topic["treatments"]),
            regimen=extra["regimen"],
            cycle=extra["cycle"],
            created_at=created,
            answer_count=len(answer_plans),
            reply_count=len(question_replies) + sum(len(a["replies"]) for a in answer_plans),
            thanks_count=sum(len(a["thankers"]) for a in answer_plans),
            last_activity_at=moment,
            search_document=search.document(title, body, *(a["body"] for a in answer_plans)),
        )
        plans.append(
            {
                "question": question,
                "answers": answer_plans,
                "replies": question_replies,
                "tags": rng.sample(topic["tags"], rng.randint(0, min(3, len(topic["tags"])))),
            }
        )

    timings["generate"] = time.monotonic() - started - sum(timings.values())
    with transaction.atomic():
        Question.objects.bulk_create([plan["question"] for plan in plans], batch_size=500)
        Question.tags.through.objects.bulk_create(
            [
                Question.tags.through(question_id=plan["question"].pk, tag_id=tags[tag].pk)
                for plan in plans
                for tag in plan["tags"]
            ],
            batch_size=2000,
        )
        Follow.objects.bulk_create(
            [
                Follow(
                    question=plan["question"],
                    user=plan["question"].author,
                    created_at=plan["question"].created_at,
                )
                for plan in plans
            ],
            batch_size=2000,
        )
        answers = []
        for plan in plans:
            for answer_plan in plan["answers"]:
                answer = Answer(
                    question=plan["question"],
                    author=answer_plan["author"],
                    body=answer_plan["body"],
                    body_html=render_markdown(answer_plan["body"]),
                    created_at=answer_plan["created"],
                    thanks_count=len(answer_plan["thankers"]),
                )
                answer_plan["answer"] = answer
                answers.append(answer)
        Answer.objects.bulk_create(answers, batch_size=500)
        replies, thanks, accepted = [], [], []
        for plan in plans:
            question = plan["question"]
            for author, body, moment in plan["replies"]:
                replies.append(
                    Reply(
                        question=question,
                        author=author,
                        body=body,
                        body_html=render_markdown(body),
                        created_at=moment,
                    )
                )
            for answer_plan in plan["answers"]:
                answer = answer_plan["answer"]
                for author, body, moment in answer_plan["replies"]:
                    replies.append(
                        Reply(
                            question=question,
                            answer=answer,
                            author=author,
                            body=body,
                            body_html=render_markdown(body),
                            created_at=moment,
                        )
                    )
                thanks.extend(
                    Thanks(answer=answer, user=user, created_at=answer.created_at)
                    for user in answer_plan["thankers"]
                )
            if plan["answers"] and rng.random() < 0.4:
                question.accepted_answer = rng.choice(plan["answers"])["answer"]
                accepted.append(question)
        Reply.objects.bulk_create(replies, batch_size=500)
        Thanks.objects.bulk_create(thanks, batch_size=2000)
        Question.objects.bulk_update(accepted, ["accepted_answer"], batch_size=500)
    timings["insert"] = time.monotonic() - started - sum(timings.values())
    has_vector = any(field.name == "search_vector" for field in Question._meta.get_fields())
    if hasattr(search, "reindex"):
        # Since forum migration 0011: documents, weighted vectors and boosts
        # as the services write them (glossary terms, stems, tag names).
        search.reindex(Question, Answer)
        timings["search index"] = time.monotonic() - started - sum(timings.values())
    elif connection.vendor == "postgresql" and has_vector:
        # The parsed search vector the services write beside search_document
        # (from forum migration 0005; older commits measured with
        # forum_http.py --commit have none).
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE forum_question SET search_vector = "
                "to_tsvector('simple'::regconfig, COALESCE(search_document, ''))"
            )
        timings["search vectors"] = time.monotonic() - started - sum(timings.values())
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: statistics for the
        # planner, and the visibility map that lets COUNT(*) use index-only
        # scans (without it the list's count reads the whole table).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.monotonic() - started - sum(timings.values())

    # A question page with several answers and some replies, the latest such.
    showcase = (
        Question.objects.filter(answer_count__gte=5, reply_count__gte=3)
        .order_by("-created_at")
        .first()
        or Question.objects.order_by("-answer_count", "-created_at").first()
    )
    return {
        "seconds": round(time.monotonic() - started, 1),
        "phases": {name: round(seconds, 1) for name, seconds in timings.items()},
        "patients": len(patients),
        "doctors": len(doctors),
        "questions": Question.objects.count(),
        "answers": Answer.objects.count(),
        "replies": Reply.objects.count(),
        "thanks": Thanks.objects.count(),
        "unanswered": Question.objects.filter(answer_count=0).count(),
        "question_url": showcase.get_absolute_url(),
        "question_answers": showcase.answer_count,
        "question_replies": showcase.reply_count,
        "search_word": SEARCH_WORD,
        "search_hits": Question.objects.filter(
            search_document__contains=f" {SEARCH_WORD} "
        ).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--patients", type=int, default=10)
    parser.add_argument("--doctors", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if Question.objects.exists():
        sys.exit("the database already has questions: forum_seed.py fills fresh databases only")
    print(
        json.dumps(seed(args.questions, args.patients, args.doctors, args.seed), ensure_ascii=False)
    )


if __name__ == "__main__":
    main()
