"""The state a newly written or edited post starts in (SPEC section 5: automatic holds)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, user_is_verified_doctor
from forum.models import Answer, PostState, Question, Reply
from moderation import detectors
from moderation.models import BlockedTerm


@dataclass
class Review:
    state: str
    reasons: list[str] = field(default_factory=list)  # codes, kept on the case
    findings: list[detectors.Finding] = field(default_factory=list)

    @property
    def message(self) -> str:
        """Why the post waits, in the author's language, with how to fix it."""
        texts = {
            "personal_data": _(
                "It seems to contain personal data (%(items)s). Edit it to remove phone numbers, "
                "ID numbers and e-mail addresses: doctors never need them here."
            )
            % {
                "items": ", ".join(
                    f"“{f.text}” {f.explanation}" for f in self.findings if f.kind != "link"
                )
            },
            "first_posts": _("The first posts of a new account are checked by a moderator."),
            "links": _("Links from new accounts are checked by a moderator."),
            "terms": _("It contains words that a moderator checks first."),
            "resubmitted": _(
                "You changed a post that was not approved; a moderator will look again."
            ),
            "still_pending": _("It is still waiting for a moderator."),
        }
        return " ".join(texts[reason] for reason in self.reasons if reason in texts)


def _published_posts(author: User, *, besides) -> int:
    """The author's published posts, not counting ``besides`` (the one under review)."""
    total = 0
    for model in (Question, Answer, Reply):
        posts = model.objects.filter(
            author=author, state=PostState.PUBLISHED, deleted_at__isnull=True
        )
        if isinstance(besides, model) and besides.pk:
            posts = posts.exclude(pk=besides.pk)
        total += posts.count()
    return total


def post_review(*, post, author: User, text: str, previous_state: str | None) -> Review:
    """Decide whether a post is published now or waits for a moderator, and why."""
    if author.is_moderator:
        return Review(PostState.PUBLISHED)
    if previous_state == PostState.HIDDEN:
        return Review(PostState.HIDDEN)
    reasons = []
    findings = detectors.find_personal_data(text)
    if findings:
        reasons.append("personal_data")
    trusted = user_is_verified_doctor(author)
    is_new = author.date_joined > timezone.now() - timedelta(days=settings.SHUKANG_NEW_ACCOUNT_DAYS)
    links = detectors.find_links(text)
    if links and is_new and not trusted:
        reasons.append("links")
        findings += links
    terms = detectors.find_terms(text, list(BlockedTerm.objects.values_list("term", flat=True)))
    if terms:
        reasons.append("terms")
        findings += terms
    if previous_state == PostState.REJECTED:
        reasons.append("resubmitted")
    elif previous_state == PostState.PENDING and not reasons:
        reasons.append("still_pending")
    if (
        not trusted
        and previous_state is None
        and _published_posts(author, besides=post) < settings.SHUKANG_HOLD_FIRST_POSTS
    ):
        reasons.append("first_posts")
    if reasons:
        return Review(PostState.PENDING, reasons, findings)
    return Review(PostState.PUBLISHED)
