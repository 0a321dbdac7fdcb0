from django import template

from core.timezones import zone_label

register = template.Library()


@register.simple_tag
def current_zone_name() -> str:
    """The name of the zone the page's times are shown in, in the reader's language."""
    return zone_label()
