from django import template

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
