"""Demo salon events for seed_demo: upcoming, past, a draft, and one online event live now.

Everything goes through the salon services, as organisers and patients
would do it. Times are relative to the moment the seed runs, in the site's
zone, so a fresh demo always has something upcoming and something live.
Each event was ``announced`` (days before the seed, the clock) before its
``attendees`` signed up (e-mail, days before, clock); a live question is
asked ``asked`` minutes into the event, voted for minutes after that, and
answered ``answered`` minutes after it was asked.
"""

import zoneinfo
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from core.demo.timeline import Timeline, days_ago
from forum.models import Category
from salon import services as salon
from salon.models import Event, LiveQuestion

MODERATOR = "moderator@shukang.example"

EVENTS = [
    {
        "title": "HIPEC 术后：康复、营养与回归日常生活",
        "was": "After HIPEC: recovery, nutrition and getting back to daily life",
        "when": "past",
        "days": -18,
        "start": (14, 0),
        "hours": 2,
        "location": "门诊楼三楼 302 室",
        "online": False,
        "capacity": 30,
        "hosts": ["dr.wang@shukang.example"],
        "category": "gastric-cancer",
        "announced": (32, "10:00"),
        "description": "Dr. Wang and the ward's dietitian talk about the first months after cytoreductive "
        "surgery with HIPEC: eating, wound care, when to call the hospital.\n\n"
        "Family members are welcome.",
        "attendees": [
            ("caregiver.zhao@shukang.example", 30, "20:30"),
            ("patient.zhang@shukang.example", 28, "09:12"),
            ("patient.liu@shukang.example", 25, "13:40"),
        ],
        "questions": [
            {
                "author": "caregiver.zhao@shukang.example",
                "asked": 25,
                "body": "How many weeks after HIPEC can my father start walking outside again?",
                "voters": [
                    ("patient.zhang@shukang.example", 3),
                    ("patient.liu@shukang.example", 6),
                ],
                "answered": 20,
                "answer": "Short walks indoors from the first days at home, outside after two to three weeks "
                "if the wound is healing well. Increase a little each day and stop when he feels dizzy.",
            },
            {
                "author": "patient.zhang@shukang.example",
                "asked": 40,
                "body": "术后多久可以恢复正常饮食？需要一直吃流食吗？",
                "anonymous": True,
                "voters": [("caregiver.zhao@shukang.example", 2)],
                "answered": 15,
                "answer": "通常术后先流食、半流食，一般两到四周逐步过渡到软食和正常饮食。少量多餐，优先保证蛋白质；"
                "如果进食少于平时一半，可以加口服营养补充剂。",
            },
        ],
    },
    {
        "title": "靶向治疗答疑：胃肠间质瘤（GIST）与伊马替尼",
        "when": "live",
        "location": "",
        "online": True,
        "online_url": "https://meeting.example.com/shukang-salon-gist",
        "capacity": 100,
        "hosts": ["dr.wang@shukang.example"],
        "category": "gist",
        "announced": (10, "09:00"),
        "description": "王军主任在线解答伊马替尼治疗中的常见问题：副作用、复查、服药时长。"
        "欢迎提前在直播间提问并为你关心的问题投票。",
        "attendees": [
            ("patient.liu@shukang.example", 9, "21:15"),
            ("patient.zhang@shukang.example", 7, "08:40"),
            ("caregiver.zhao@shukang.example", 3, "19:05"),
        ],
        "questions": [
            {
                "author": "patient.liu@shukang.example",
                "asked": 8,
                "body": "伊马替尼引起的眼睑浮肿，有没有办法减轻？",
                "voters": [
                    ("patient.zhang@shukang.example", 2),
                    ("caregiver.zhao@shukang.example", 4),
                ],
            },
            {
                "author": "patient.zhang@shukang.example",
                "asked": 17,
                "body": "Should imatinib be taken with food, and what if I miss a dose?",
                "voters": [("patient.liu@shukang.example", 1)],
            },
        ],
    },
    {
        "title": "化疗期间怎么吃好",
        "was": "Eating well during chemotherapy",
        "when": "upcoming",
        "days": 6,
        "start": (14, 0),
        "hours": 2,
        "location": "门诊楼三楼 302 室",
        "online": False,
        "capacity": 30,
        "hosts": ["dr.chen@shukang.example"],
        "category": "colorectal-cancer",
        "announced": (12, "16:00"),
        "description": "A talk with tasting: small meals, protein, what helps with nausea and a sore mouth. "
        "Bring your questions.",
        "attendees": [("patient.zhang@shukang.example", 5, "12:30")],
        "questions": [],
    },
    {
        "title": "造口生活交流会（线上）",
        "when": "upcoming",
        "days": 13,
        "start": (19, 30),
        "hours": 1,
        "location": "",
        "online": True,
        "online_url": "https://meeting.example.com/shukang-salon-stoma",
        "capacity": 2,
        "hosts": ["dr.chen@shukang.example"],
        "category": "living-with-cancer",
        "announced": (8, "11:00"),
        "description": "造口护士和病友一起聊聊：换袋、渗漏、出门、运动和工作。名额有限，满员后可以排队候补。",
        "attendees": [
            ("patient.liu@shukang.example", 7, "20:00"),
            ("caregiver.zhao@shukang.example", 4, "09:45"),
            ("patient.zhang@shukang.example", 2, "22:10"),
        ],
        "questions": [],
    },
    {
        "title": "春日医院花园散步",
        "was": "Spring walk in the hospital garden",
        "when": "draft",
        "days": 40,
        "start": (9, 30),
        "hours": 2,
        "location": "医院花园，北门集合",
        "online": False,
        "capacity": 20,
        "hosts": [],
        "category": "living-with-cancer",
        "announced": (1, "17:30"),
        "description": "A gentle walk and tea afterwards. Details to follow.",
        "attendees": [],
        "questions": [],
    },
]


def _times(item: dict, now: datetime) -> tuple[datetime, datetime]:
    if item["when"] == "live":
        start = now.replace(second=0, microsecond=0) - timedelta(minutes=30)
        return start, start + timedelta(hours=2)
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    day = (timezone.localtime(now, zone) + timedelta(days=item["days"])).date()
    hour, minute = item["start"]
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return start, start + timedelta(hours=item["hours"])


def plan(timeline: Timeline) -> int:
    """Add the steps of the demo events that do not exist yet; return how many."""
    existing = set(Event.objects.values_list("title", flat=True))
    created = 0
    for item in EVENTS:
        # A demo seeded before the events had Chinese titles has them under "was".
        if item["title"] in existing or item.get("was") in existing:
            continue
        starts_at, ends_at = _times(item, timeline.now)
        made: dict = {}
        timeline.add(
            days_ago(timeline.now, *item["announced"]),
            partial(_event_create, item=item, times=(starts_at, ends_at), made=made),
        )
        for email, days, clock in item["attendees"]:
            timeline.add(
                days_ago(timeline.now, days, clock), partial(_rsvp, made=made, email=email)
            )
        for number, question_item in enumerate(item["questions"]):
            asked = starts_at + timedelta(minutes=question_item["asked"])
            timeline.add(
                asked,
                partial(_ask, made=made, number=number, question_item=question_item),
            )
            for email, minutes in question_item["voters"]:
                timeline.add(
                    asked + timedelta(minutes=minutes),
                    partial(_vote, made=made, number=number, email=email),
                )
            if question_item.get("answer"):
                timeline.add(
                    asked + timedelta(minutes=question_item["answered"]),
                    partial(_answer, made=made, number=number, question_item=question_item),
                )
        if item["when"] == "past":
            timeline.add(
                ends_at + timedelta(minutes=25),
                partial(_move_and_publish, made=made, times=(starts_at, ends_at)),
            )
        created += 1
    return created


# The steps: each does what one person did, through the services.


def _person(email: str) -> User:
    return User.objects.get(email=email)


def _event_create(*, item: dict, times: tuple[datetime, datetime], made: dict) -> None:
    categories = {category.slug: category for category in Category.objects.all()}
    starts_at, ends_at = times
    if item["when"] == "past":
        # Signing up and asking happen before an event ends: hold it in the
        # future for that, then move it to its real date (_move_and_publish).
        later = timezone.now() + timedelta(days=1)
        starts_at, ends_at = later, later + (ends_at - starts_at)
    made["event"] = salon.event_create(
        organiser=_person(MODERATOR),
        title=item["title"],
        description=item["description"],
        starts_at=starts_at,
        ends_at=ends_at,
        location=item["location"],
        is_online=item["online"],
        online_url=item.get("online_url", ""),
        capacity=item["capacity"],
        state=Event.State.DRAFT if item["when"] == "draft" else Event.State.PUBLISHED,
        hosts=[_person(email) for email in item["hosts"]],
        category=categories.get(item["category"]),
    )
    made["hosts"] = item["hosts"]


def _rsvp(*, made: dict, email: str) -> None:
    salon.rsvp_create(event=made["event"], user=_person(email))


def _ask(*, made: dict, number: int, question_item: dict) -> None:
    made[number] = salon.live_question_create(
        event=made["event"],
        author=_person(question_item["author"]),
        body=question_item["body"],
        is_anonymous=question_item.get("anonymous", False),
    )


def _vote(*, made: dict, number: int, email: str) -> None:
    salon.live_question_vote(event=made["event"], question=made[number], user=_person(email))


def _answer(*, made: dict, number: int, question_item: dict) -> None:
    salon.live_question_mark_answered(
        event=made["event"],
        question=LiveQuestion.objects.get(pk=made[number].pk),
        user=_person(made["hosts"][0]),
        answer=question_item["answer"],
    )


def _move_and_publish(*, made: dict, times: tuple[datetime, datetime]) -> None:
    """Move a past event to its real date, then publish its answered questions to the forum."""
    event = made["event"]
    # Demo time travel only: the event took place before the seed ran.
    Event.objects.filter(pk=event.pk).update(starts_at=times[0], ends_at=times[1])
    event.refresh_from_db()
    salon.live_questions_publish(event=event, user=_person(made["hosts"][0]))
