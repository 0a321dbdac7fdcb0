"""Reads for the moderators: the queue with its context, and the audit log."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from moderation import detectors, registry
from moderation.models import AuditEntry, BlockedTerm, Case, Flag, FlagReason


@dataclass
class QueueItem:
    case: Case
    target: object
    flags: list[Flag] = field(default_factory=list)
    author: object = None
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
            "no_ocr": _("not read by OCR"),
            **dict(FlagReason.choices),
        }
        return [labels.get(reason, reason) for reason in self.case.reasons]

    @property
    def kind(self) -> registry.Kind:
        return registry.kind_of(self.target)

    @property
    def can_redact(self) -> bool:
        return self.kind.redact is not None

    @property
    def link(self) -> tuple[str, str] | None:
        """The (title, url) the card's heading links to, if its kind has a page."""
        return self.kind.link(self.target) if self.kind.link else None


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
    for model, ids in by_model.items():
        for obj in registry.kind_of(model).queryset().filter(pk__in=ids):
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
        kind = registry.kind_of(target)
        item = QueueItem(
            case=case,
            target=target,
            flags=flag_rows[(case.content_type_id, case.object_id)],
            author=kind.author(target),
        )
        if kind.text is not None:
            text = kind.text(target)
            findings = (
                detectors.find_personal_data(text)
                + detectors.find_links(text)
                + detectors.find_terms(text, terms if "terms" in case.reasons else [])
            )
            item.highlighted = detectors.highlight(text, findings)
        items.append(item)
    _attach_history(items)
    return items


def _attach_history(items: list[QueueItem]) -> None:
    """Each author's earlier posts by state, summed over the kinds that keep history."""
    authors = {item.author.pk for item in items if item.author is not None}
    if not authors:
        return
    history = defaultdict(lambda: defaultdict(int))
    for kind in registry.kinds():
        if kind.history is None:
            continue
        for author_id, counts in kind.history(authors).items():
            for state, n in counts.items():
                history[author_id][state] += n
    for item in items:
        if item.author is not None:
            counts = history[item.author.pk]
            item.history = {
                state: counts[state] for state in ("published", "pending", "rejected", "hidden")
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
