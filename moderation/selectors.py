"""Reads for the moderators: the queue with its context, and the audit log."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import PhysicianProfile, User
from forum.models import Answer, PostState, Question, Reply
from moderation import detectors
from moderation.models import AuditEntry, BlockedTerm, Case, Flag, FlagReason


@dataclass
class QueueItem:
    case: Case
    target: object
    flags: list[Flag] = field(default_factory=list)
    author: User | None = None
    history: dict = field(default_factory=dict)
    highlighted: str = ""

    @property
    def reason_labels(self) -> list[str]:
        labels = {
            "personal_data": _("personal data"),
            "first_posts": _("new account's first post"),
            "links": _("link from a new account"),
            "terms": _("word list"),
            "resubmitted": _("edited after rejection"),
            "still_pending": _("edited while waiting"),
            **dict(FlagReason.choices),
        }
        return [labels.get(reason, reason) for reason in self.case.reasons]

    @property
    def question(self):
        target = self.target
        return target if isinstance(target, Question) else getattr(target, "question", None)


def open_case_count() -> int:
    return Case.objects.filter(resolved_at__isnull=True).count()


def queue(*, limit: int = 50) -> list[QueueItem]:
    """Open cases oldest first, each with its post or application and what a moderator needs.

    A fixed number of queries whatever the queue holds: cases, their targets
    per type, flags, and each author's history.
    """
    cases = list(
        Case.objects.filter(resolved_at__isnull=True)
        .select_related("content_type")
        .order_by("created_at", "pk")[:limit]
    )
    by_model = defaultdict(list)
    for case in cases:
        by_model[case.content_type.model_class()].append(case.object_id)
    targets = {}
    loaders = {
        Question: Question.objects.select_related("author", "category"),
        Answer: Answer.objects.select_related("author", "question"),
        Reply: Reply.objects.select_related("author", "question"),
        PhysicianProfile: PhysicianProfile.objects.select_related("user").prefetch_related(
            "specialties"
        ),
    }
    for model, ids in by_model.items():
        for obj in loaders[model].filter(pk__in=ids):
            targets[(model, obj.pk)] = obj
    flag_rows = defaultdict(list)
    if cases:
        flag_filter = Q()
        for case in cases:
            flag_filter |= Q(content_type_id=case.content_type_id, object_id=case.object_id)
        for flag in Flag.objects.filter(flag_filter).order_by("created_at"):
            flag_rows[(flag.content_type_id, flag.object_id)].append(flag)
    terms = (
        list(BlockedTerm.objects.values_list("term", flat=True))
        if any("terms" in c.reasons for c in cases)
        else []
    )
    items = []
    for case in cases:
        target = targets.get((case.content_type.model_class(), case.object_id))
        if target is None:
            continue
        author = target.user if isinstance(target, PhysicianProfile) else target.author
        item = QueueItem(
            case=case,
            target=target,
            flags=flag_rows[(case.content_type_id, case.object_id)],
            author=author,
        )
        if not isinstance(target, PhysicianProfile):
            text = (
                f"{target.title}\n\n{target.body}" if isinstance(target, Question) else target.body
            )
            terms = (
                list(BlockedTerm.objects.values_list("term", flat=True))
                if "terms" in case.reasons
                else []
            )
            findings = (
                detectors.find_personal_data(text)
                + detectors.find_links(text)
                + detectors.find_terms(text, terms)
            )
            item.highlighted = detectors.highlight(text, findings)
        items.append(item)
    _attach_history(items)
    return items


def _attach_history(items: list[QueueItem]) -> None:
    authors = {item.author.pk for item in items if item.author is not None}
    if not authors:
        return
    history = defaultdict(lambda: defaultdict(int))
    for model in (Question, Answer, Reply):
        rows = (
            model.objects.filter(author_id__in=authors)
            .values("author_id", "state")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            history[row["author_id"]][row["state"]] += row["n"]
    for item in items:
        if item.author is not None:
            counts = history[item.author.pk]
            item.history = {
                "published": counts[PostState.PUBLISHED],
                "pending": counts[PostState.PENDING],
                "rejected": counts[PostState.REJECTED],
                "hidden": counts[PostState.HIDDEN],
            }


def audit_log() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("moderator", "content_type").order_by(
        "-created_at", "-pk"
    )


def blocked_terms() -> QuerySet[BlockedTerm]:
    return BlockedTerm.objects.select_related("created_by")


def flag_count(post) -> int:
    return Flag.objects.filter(
        content_type=ContentType.objects.get_for_model(post), object_id=post.pk
    ).count()
