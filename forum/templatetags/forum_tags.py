from django import template
from django.utils.translation import gettext as _

from forum.models import Question

register = template.Library()


def author_is_hidden(post, viewer) -> bool:
    """Whether ``viewer`` must not learn who wrote ``post`` (SPEC: anonymous asking)."""
    question = post if isinstance(post, Question) else getattr(post, "question", None)
    if question is None or not question.is_anonymous or post.author_id != question.author_id:
        return False
    if viewer is not None and viewer.is_authenticated:
        return not (viewer.pk == post.author_id or viewer.is_moderator)
    return True


@register.simple_tag(takes_context=True)
def author_name(context, post):
    """The name to show for a post's author, as this viewer may see it."""
    viewer = context.get("user")
    if author_is_hidden(post, viewer):
        return _("Anonymous patient")
    author = post.author
    if not author.is_active and not author.email:
        return _("Former member")
    name = author.name
    question = post if isinstance(post, Question) else getattr(post, "question", None)
    if question is not None and question.is_anonymous and post.author_id == question.author_id:
        # The asker or a moderator sees the real name, marked as hidden from others.
        return _("%(name)s (shown to others as Anonymous patient)") % {"name": name}
    return name
