from django import template
from django.utils import timezone
from django.utils.html import format_html

from core.timezones import zone_label

register = template.Library()


@register.simple_tag
def current_zone_name() -> str:
    """The name of the zone the page's times are shown in, in the reader's language."""
    return zone_label()


@register.simple_tag
def time_element(value):
    """``<time>`` for a moment, shown to the minute in the reader's zone.

    The markup of ``<time datetime="{{ value|date:'c' }}">{{ value|date:"Y-m-d H:i" }}</time>``
    with the zone looked up once instead of twice: lists print one per row.
    """
    if not value:  # None, or a name the context does not hold
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}">{}</time>', local.isoformat(), local.strftime("%Y-%m-%d %H:%M")
    )
