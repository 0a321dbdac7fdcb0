"""seed_demo: demo accounts, questions and salon events, as if weeks of use had passed."""

from datetime import timedelta
from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import PhysicianProfile, User
from accounts.services import account_create
from core.demo import mdt as demo_mdt
from core.demo import salon as demo_salon
from core.demo.forum import QUESTIONS
from core.demo.timeline import Timeline, days_ago, hours
from forum import services as forum
from forum.models import Answer, Category, PostState, Question
from moderation.models import Case
from moderation.services import case_approve

DEMO_PASSWORD = "shukang-demo-2026"

# How long the demo moderator takes to approve a held post.
REVIEW_DELAY = timedelta(minutes=35)

# "joined": (days before the seed, the clock), before anything each person does.
MODERATOR = {
    "email": "moderator@shukang.example",
    "name": "Moderator Lin",
    "joined": (120, "09:30"),
}

DOCTORS = [
    {
        "email": "dr.wang@shukang.example",
        "joined": (112, "10:05"),
        "name": "Dr. Wang Jun",
        "title": PhysicianProfile.Title.CHIEF,
        "licence_number": "DEMO-110101-0001",
        "specialties": ["gastric-cancer", "gist"],
    },
    {
        "email": "dr.chen@shukang.example",
        "joined": (108, "14:20"),
        "name": "Dr. Chen Hui",
        "title": PhysicianProfile.Title.ASSOCIATE_CHIEF,
        "licence_number": "DEMO-110101-0002",
        "specialties": ["colorectal-cancer", "living-with-cancer"],
    },
    {
        "email": "dr.li@shukang.example",
        "joined": (101, "11:45"),
        "name": "Dr. Li Na",
        "title": PhysicianProfile.Title.ATTENDING,
        "licence_number": "DEMO-110101-0003",
        "specialties": ["hepatobiliary-pancreatic-cancer", "gep-net"],
    },
]

PATIENTS = [
    {"email": "patient.zhang@shukang.example", "name": "Zhang Wei", "joined": (47, "20:12")},
    {"email": "patient.liu@shukang.example", "name": "Liu Fang", "joined": (39, "07:55")},
    {"email": "caregiver.zhao@shukang.example", "name": "Zhao Min", "joined": (36, "22:03")},
]


class Command(BaseCommand):
    help = "Add demo accounts and content; running it again adds nothing twice."

    def handle(self, *args, **options):
        # Demo people are not real: the notifications their demo activity
        # causes are stored, but no e-mail is sent for them.
        with (
            override_settings(
                MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
            ),
            transaction.atomic(),
        ):
            timeline = Timeline(timezone.now())
            created = self.plan_accounts(timeline)
            questions = self.plan_forum(timeline)
            events = demo_salon.plan(timeline)
            sessions = demo_mdt.plan(timeline)
            timeline.run()
        self.stdout.write(
            f"Demo data ready ({created} new accounts, {questions} new questions, "
            f"{events} new salon events, {sessions} new MDT sessions). "
            "Every demo login uses the password "
            f"“{DEMO_PASSWORD}”:"
        )
        for role, people in (
            ("moderator", [MODERATOR]),
            ("doctor", DOCTORS),
            ("patient", PATIENTS),
        ):
            for person in people:
                self.stdout.write(f"  {role:<10} {person['email']}")

    def plan_accounts(self, timeline: Timeline) -> int:
        """Add a step for each demo account that does not exist yet; return how many."""
        existing = set(User.objects.values_list("email", flat=True))
        created = 0
        for role, people in (
            (User.Role.MODERATOR, [MODERATOR]),
            (User.Role.DOCTOR, DOCTORS),
            (User.Role.PATIENT, PATIENTS),
        ):
            for person in people:
                if person["email"] in existing:
                    continue
                joined = days_ago(timeline.now, *person["joined"])
                timeline.add(joined, partial(self.account_create, role=role, person=person))
                created += 1
        return created

    def account_create(self, *, role: str, person: dict) -> None:
        details = {key: value for key, value in person.items() if key != "joined"}
        if role == User.Role.DOCTOR:
            categories = {category.slug: category for category in Category.objects.all()}
            details["specialties"] = [categories[slug] for slug in details["specialties"]]
            details["verified"] = True
        account_create(password=DEMO_PASSWORD, role=role, **details)

    def plan_forum(self, timeline: Timeline) -> int:
        """Ask, answer, reply, thank and accept through the services, at their moments.

        Posts held for review (a new member's first post) are approved by the
        demo moderator ``REVIEW_DELAY`` later; every follow-up comes after that.
        """
        existing = set(Question.objects.values_list("title", flat=True))
        created = 0
        for item in QUESTIONS:
            if item["title"] in existing:
                continue
            made: dict = {}
            asked = days_ago(timeline.now, *item["asked"])
            timeline.add(asked, partial(self.question_ask, item=item, made=made))
            timeline.add(asked + REVIEW_DELAY, partial(self.review, made=made, key="question"))
            for number, answer_item in enumerate(item["answers"]):
                key = ("answer", number)
                answered = asked + hours(answer_item["after"])
                timeline.add(
                    answered,
                    partial(self.question_answer, answer_item=answer_item, made=made, key=key),
                )
                timeline.add(answered + REVIEW_DELAY, partial(self.review, made=made, key=key))
                for reply_number, reply in enumerate(answer_item["replies"]):
                    self.plan_reply(
                        timeline, answered, reply, made, key=(*key, reply_number), answer=key
                    )
                for email, after in answer_item["thanks"]:
                    timeline.add(
                        answered + hours(after),
                        partial(self.answer_thank, made=made, key=key, email=email),
                    )
                if answer_item["accepted"] is not None:
                    timeline.add(
                        answered + hours(answer_item["accepted"]),
                        partial(self.answer_accept, made=made, key=key),
                    )
            for reply_number, reply in enumerate(item["replies"]):
                self.plan_reply(timeline, asked, reply, made, key=("reply", reply_number))
            created += 1
        return created

    def plan_reply(self, timeline, parent_at, reply, made, *, key, answer=None) -> None:
        replied = parent_at + hours(reply["after"])
        timeline.add(
            replied, partial(self.reply_create, reply=reply, made=made, key=key, answer=answer)
        )
        timeline.add(replied + REVIEW_DELAY, partial(self.review, made=made, key=key))

    # The steps: each does what one person did, through the services.

    def question_ask(self, *, item: dict, made: dict) -> None:
        categories = {category.slug: category for category in Category.objects.all()}
        made["question"] = forum.question_create(
            author=person(item["author"]),
            title=item["title"],
            body=item["body"],
            category=categories[item["category"]],
            tags=[slug.replace("-", " ") for slug in item["tags"]],
            is_anonymous=item.get("anonymous", False),
            asker=item["asker"],
            stage=item["stage"],
            treatment=item["treatment"],
            regimen=item["regimen"],
            cycle=item["cycle"],
        )

    def question_answer(self, *, answer_item: dict, made: dict, key) -> None:
        made[key] = forum.answer_create(
            question=made["question"],
            author=person(answer_item["doctor"]),
            body=answer_item["body"],
        )

    def reply_create(self, *, reply: dict, made: dict, key, answer=None) -> None:
        made[key] = forum.reply_create(
            question=made["question"],
            answer=made[answer] if answer else None,
            author=person(reply["author"]),
            body=reply["body"],
        )

    def answer_thank(self, *, made: dict, key, email: str) -> None:
        forum.answer_thank(answer=Answer.objects.get(pk=made[key].pk), user=person(email))

    def answer_accept(self, *, made: dict, key) -> None:
        answer = Answer.objects.get(pk=made[key].pk)
        forum.answer_accept(answer=answer, user=person(made["question"].author.email))

    def review(self, *, made: dict, key) -> None:
        """Demo posts by new members are held like anyone's; the demo moderator approves them."""
        post = made[key]
        post.refresh_from_db()
        if post.state != PostState.PENDING:
            return
        case = Case.objects.get(
            content_type=ContentType.objects.get_for_model(post),
            object_id=post.pk,
            resolved_at__isnull=True,
        )
        case_approve(case_id=case.pk, moderator=person(MODERATOR["email"]))
        post.refresh_from_db()


def person(email: str) -> User:
    return User.objects.get(email=email)
