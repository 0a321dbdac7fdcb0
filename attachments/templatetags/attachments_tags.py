from django import template

register = template.Library()


@register.filter
def for_reply(attachments, reply_id):
    """The images on one reply, from the page's ``QuestionAttachments``."""
    if not attachments:
        return []
    return attachments.by_reply.get(reply_id, [])
