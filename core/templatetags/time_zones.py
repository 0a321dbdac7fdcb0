from django import template
from django.utils.html import format_html
from django.utils.timezone import template_localtime

from core.timezones import zone_label

register = template.Library()


@register.simple_tag
def current_zone_name() -> str:
    """The name of the zone the page's times are shown in, in the reader's language."""
    return zone_label()


@register.simple_tag(takes_context=True)
def time_element(context, value):
    """``<time>`` for a moment, shown to the minute in the reader's zone.

    The markup of ``<time datetime="{{ value|date:'c' }}">{{ value|date:"Y-m-d H:i" }}</time>``
    with the zone looked up once instead of twice (and ``{% localtime off %}``
    heeded as they heed it): lists print one per row.
    """
    if not value:  # None, or a name the context does not hold
        return ""
    local = template_localtime(value, context.use_tz)
    return format_html(
        '<time datetime="{}">{}</time>', local.isoformat(), local.strftime("%Y-%m-%d %H:%M")
    )
