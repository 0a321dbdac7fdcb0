"""Demo salon events for seed_demo: upcoming, past, a draft, and one online event live now.

Everything goes through the salon services, as organisers and patients
would do it. Times are relative to the moment the seed runs, in the site's
zone, so a fresh demo always has something upcoming and something live.
"""

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from forum.models import Category
from salon import services as salon
from salon.models import Event, LiveQuestion

MODERATOR = "moderator@shukang.example"

EVENTS = [
    {
        "title": "After HIPEC: recovery, nutrition and getting back to daily life",
        "when": "past",
        "days": -18,
        "start": (14, 0),
        "hours": 2,
        "location": "Outpatient building, 3rd floor, Room 302",
        "online": False,
        "capacity": 30,
        "hosts": ["dr.wang@shukang.example"],
        "category": "gastric-cancer",
        "description": "Dr. Wang and the ward's dietitian talk about the first months after cytoreductive "
        "surgery with HIPEC: eating, wound care, when to call the hospital.\n\n"
        "Family members are welcome.",
        "attendees": [
            "caregiver.zhao@shukang.example",
            "patient.zhang@shukang.example",
            "patient.liu@shukang.example",
        ],
        "questions": [
            {
                "author": "caregiver.zhao@shukang.example",
                "body": "How many weeks after HIPEC can my father start walking outside again?",
                "voters": ["patient.zhang@shukang.example", "patient.liu@shukang.example"],
                "answer": "Short walks indoors from the first days at home, outside after two to three weeks "
                "if the wound is healing well. Increase a little each day and stop when he feels dizzy.",
            },
            {
                "author": "patient.zhang@shukang.example",
                "body": "术后多久可以恢复正常饮食？需要一直吃流食吗？",
                "anonymous": True,
                "voters": ["caregiver.zhao@shukang.example"],
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
        "description": "王军主任在线解答伊马替尼治疗中的常见问题：副作用、复查、服药时长。"
        "欢迎提前在直播间提问并为你关心的问题投票。",
        "attendees": [
            "patient.liu@shukang.example",
            "patient.zhang@shukang.example",
            "caregiver.zhao@shukang.example",
        ],
        "questions": [
            {
                "author": "patient.liu@shukang.example",
                "body": "伊马替尼引起的眼睑浮肿，有没有办法减轻？",
                "voters": ["patient.zhang@shukang.example", "caregiver.zhao@shukang.example"],
            },
            {
                "author": "patient.zhang@shukang.example",
                "body": "Should imatinib be taken with food, and what if I miss a dose?",
                "voters": ["patient.liu@shukang.example"],
            },
        ],
    },
    {
        "title": "Eating well during chemotherapy",
        "when": "upcoming",
        "days": 6,
        "start": (14, 0),
        "hours": 2,
        "location": "Outpatient building, 3rd floor, Room 302",
        "online": False,
        "capacity": 30,
        "hosts": ["dr.chen@shukang.example"],
        "category": "colorectal-cancer",
        "description": "A talk with tasting: small meals, protein, what helps with nausea and a sore mouth. "
        "Bring your questions.",
        "attendees": ["patient.zhang@shukang.example"],
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
        "description": "造口护士和病友一起聊聊：换袋、渗漏、出门、运动和工作。名额有限，满员后可以排队候补。",
        "attendees": [
            "patient.liu@shukang.example",
            "caregiver.zhao@shukang.example",
            "patient.zhang@shukang.example",
        ],
        "questions": [],
    },
    {
        "title": "Spring walk in the hospital garden",
        "when": "draft",
        "days": 40,
        "start": (9, 30),
        "hours": 2,
        "location": "Hospital garden, meet at the north gate",
        "online": False,
        "capacity": 20,
        "hosts": [],
        "category": "living-with-cancer",
        "description": "A gentle walk and tea afterwards. Details to follow.",
        "attendees": [],
        "questions": [],
    },
]


def _times(item: dict) -> tuple[datetime, datetime]:
    now = timezone.now()
    if item["when"] == "live":
        start = now.replace(second=0, microsecond=0) - timedelta(minutes=30)
        return start, start + timedelta(hours=2)
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    day = (timezone.localtime(now, zone) + timedelta(days=item["days"])).date()
    hour, minute = item["start"]
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return start, start + timedelta(hours=item["hours"])


def seed() -> int:
    """Create the demo events that do not exist yet; returns how many were created."""
    people = {user.email: user for user in User.objects.filter(email__endswith="@shukang.example")}
    organiser = people[MODERATOR]
    categories = {category.slug: category for category in Category.objects.all()}
    existing = set(Event.objects.values_list("title", flat=True))
    created = 0
    for item in EVENTS:
        if item["title"] in existing:
            continue
        starts_at, ends_at = _times(item)
        is_past = item["when"] == "past"
        if is_past:
            # Signing up and asking happen before an event: hold it in the
            # future for that, then move it to its real date below.
            later = timezone.now() + timedelta(days=1)
            held = (later, later + (ends_at - starts_at))
        else:
            held = (starts_at, ends_at)
        event = salon.event_create(
            organiser=organiser,
            title=item["title"],
            description=item["description"],
            starts_at=held[0],
            ends_at=held[1],
            location=item["location"],
            is_online=item["online"],
            online_url=item.get("online_url", ""),
            capacity=item["capacity"],
            state=Event.State.DRAFT if item["when"] == "draft" else Event.State.PUBLISHED,
            hosts=[people[email] for email in item["hosts"]],
            category=categories.get(item["category"]),
        )
        for email in item["attendees"]:
            salon.rsvp_create(event=event, user=people[email])
        for question_item in item["questions"]:
            question = salon.live_question_create(
                event=event,
                author=people[question_item["author"]],
                body=question_item["body"],
                is_anonymous=question_item.get("anonymous", False),
            )
            for email in question_item["voters"]:
                salon.live_question_vote(event=event, question=question, user=people[email])
            if question_item.get("answer"):
                salon.live_question_mark_answered(
                    event=event,
                    question=LiveQuestion.objects.get(pk=question.pk),
                    user=people[item["hosts"][0]],
                    answer=question_item["answer"],
                )
        if is_past:
            # Demo time travel only: the event took place before the seed ran.
            Event.objects.filter(pk=event.pk).update(starts_at=starts_at, ends_at=ends_at)
            event.refresh_from_db()
            salon.live_questions_publish(event=event, user=people[item["hosts"][0]])
        created += 1
    return created
