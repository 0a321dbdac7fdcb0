"""Attachments as moderation sees them (moderation.registry)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from attachments import services
from attachments.models import Attachment
from moderation import registry


def _describe(attachment) -> str:
    return _("image on “%(title)s”") % {"title": attachment.question.title[:80]}


def _approve(attachment, *, case, moderator) -> str:
    services.attachment_publish(attachment=attachment)
    services.tell_owner_reviewed(attachment, approved=True)
    return "attachment_approve"


def _reject(attachment, *, case, moderator, reason: str) -> str:
    services.attachment_remove(attachment=attachment)
    services.tell_owner_reviewed(attachment, approved=False, reason=reason)
    return "attachment_remove"


def register() -> None:
    """Called from ``AttachmentsConfig.ready``."""
    registry.register(
        registry.Kind(
            name="attachment",
            model=Attachment,
            describe=_describe,
            queryset=lambda: Attachment.objects.select_related("owner", "question"),
            author=lambda attachment: attachment.owner,
            template="attachments/_moderation_case.html",
            approve=_approve,
            reject=_reject,
            link=lambda a: (a.question.title, a.question.get_absolute_url()),
            approve_label=gettext_lazy("Share with physicians"),
            reject_label=gettext_lazy("Remove the image"),
            actions={
                "attachment_approve": gettext_lazy("Image shared with physicians"),
                "attachment_remove": gettext_lazy("Image removed"),
                "attachment_cover": gettext_lazy("Image covered and shared"),
            },
        )
    )
