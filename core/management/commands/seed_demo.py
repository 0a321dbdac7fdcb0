from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from accounts.models import PhysicianProfile, User
from accounts.services import account_create
from core.demo import salon as demo_salon
from core.demo.forum import QUESTIONS
from forum import services as forum
from forum.models import Answer, Category, Question

DEMO_PASSWORD = "shukang-demo-2026"

MODERATOR = {"email": "moderator@shukang.example", "name": "Moderator Lin"}

DOCTORS = [
    {
        "email": "dr.wang@shukang.example",
        "name": "Dr. Wang Jun",
        "title": PhysicianProfile.Title.CHIEF,
        "licence_number": "DEMO-110101-0001",
        "specialties": ["gastric-cancer", "gist"],
    },
    {
        "email": "dr.chen@shukang.example",
        "name": "Dr. Chen Hui",
        "title": PhysicianProfile.Title.ASSOCIATE_CHIEF,
        "licence_number": "DEMO-110101-0002",
        "specialties": ["colorectal-cancer", "living-with-cancer"],
    },
    {
        "email": "dr.li@shukang.example",
        "name": "Dr. Li Na",
        "title": PhysicianProfile.Title.ATTENDING,
        "licence_number": "DEMO-110101-0003",
        "specialties": ["hepatobiliary-pancreatic-cancer", "gep-net"],
    },
]

PATIENTS = [
    {"email": "patient.zhang@shukang.example", "name": "Zhang Wei"},
    {"email": "patient.liu@shukang.example", "name": "Liu Fang"},
    {"email": "caregiver.zhao@shukang.example", "name": "Zhao Min"},
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
            created = self.seed_accounts()
            questions = self.seed_forum()
            events = demo_salon.seed()
        self.stdout.write(
            f"Demo data ready ({created} new accounts, {questions} new questions, "
            f"{events} new salon events). "
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

    def seed_accounts(self) -> int:
        existing = set(User.objects.values_list("email", flat=True))
        categories = {category.slug: category for category in Category.objects.all()}
        created = 0
        if MODERATOR["email"] not in existing:
            account_create(password=DEMO_PASSWORD, role=User.Role.MODERATOR, **MODERATOR)
            created += 1
        for doctor in DOCTORS:
            if doctor["email"] in existing:
                continue
            account_create(
                password=DEMO_PASSWORD,
                role=User.Role.DOCTOR,
                verified=True,
                email=doctor["email"],
                name=doctor["name"],
                title=doctor["title"],
                licence_number=doctor["licence_number"],
                specialties=[categories[slug] for slug in doctor["specialties"]],
            )
            created += 1
        for patient in PATIENTS:
            if patient["email"] not in existing:
                account_create(password=DEMO_PASSWORD, role=User.Role.PATIENT, **patient)
                created += 1
        return created

    def publish(self, post):
        """Demo posts by new accounts are held like anyone's; the demo moderator approves them."""
        from django.contrib.contenttypes.models import ContentType

        from moderation.models import Case
        from moderation.services import case_approve

        if post.state == "pending":
            case = Case.objects.get(
                content_type=ContentType.objects.get_for_model(post),
                object_id=post.pk,
                resolved_at__isnull=True,
            )
            case_approve(case_id=case.pk, moderator=User.objects.get(email=MODERATOR["email"]))
            post.refresh_from_db()
        return post

    def seed_forum(self) -> int:
        """Ask, answer, reply, thank and accept through the services, as people would."""
        people = {
            user.email: user for user in User.objects.filter(email__endswith="@shukang.example")
        }
        categories = {category.slug: category for category in Category.objects.all()}
        existing = set(Question.objects.values_list("title", flat=True))
        created = 0
        for item in QUESTIONS:
            if item["title"] in existing:
                continue
            asker = people[item["author"]]
            question = self.publish(
                forum.question_create(
                    author=asker,
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
            )
            for answer_item in item["answers"]:
                answer = self.publish(
                    forum.answer_create(
                        question=question,
                        author=people[answer_item["doctor"]],
                        body=answer_item["body"],
                    )
                )
                for reply in answer_item["replies"]:
                    self.publish(
                        forum.reply_create(
                            question=question,
                            answer=answer,
                            author=people[reply["author"]],
                            body=reply["body"],
                        )
                    )
                for email in answer_item["thanks_from"]:
                    forum.answer_thank(answer=Answer.objects.get(pk=answer.pk), user=people[email])
                if answer_item["accepted"]:
                    forum.answer_accept(answer=answer, user=asker)
            for reply in item["replies"]:
                self.publish(
                    forum.reply_create(
                        question=question, author=people[reply["author"]], body=reply["body"]
                    )
                )
            created += 1
        return created
