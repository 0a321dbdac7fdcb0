from django import template
from django.utils.translation import ngettext

from core.memberpage import slot
from forum.selectors import author_display

register = template.Library()


@register.simple_tag(takes_context=True)
def author_name(context, post):
    """The name to show for a post's author, as this viewer may see it."""
    return author_display(post, context.get("user"))


@register.simple_tag
def public_author_name(post):
    """The author's name as anyone may see it, for lists shared by visitors and members."""
    return author_display(post, None)


@register.simple_tag
def plural_form(singular: str, plural: str, number: int) -> str:
    """The active language's form of a message for ``number``, its %(counter)s left unfilled.

    For a script that changes the count on the page (static/js/live.js fills
    it in, choosing the form with the browser's Intl.PluralRules).
    """
    return ngettext(singular, plural, number)


@register.simple_tag
def member_slot(kind: str, pk: int):
    """Where a member's own button goes in the shared page (``forum.membercache``)."""
    return slot(kind, pk)
