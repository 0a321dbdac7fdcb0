from django.db.models import Count, Max, Q

from notifications.models import Notification


def unread_notifications(request):
    """The bell's unread count and newest id; one query, none for visitors or if known.

    A page being read has them from the session's user (``core.memberpage.load_user``).

    The id lets the page's socket catch up on anything that arrives between
    rendering the page and connecting.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    known = getattr(request, "member_personal", None)  # core.memberpage asked already
    if known is None and request.method in ("GET", "HEAD"):
        # Loaded with the session's user, whose kept copy a new or read notification retires.
        known = getattr(user, "member_state", None)
    if known is not None:
        return {"unread_notifications": known.unread, "last_notification_id": known.last}
    totals = Notification.objects.filter(recipient=user).aggregate(
        unread=Count("pk", filter=Q(read_at__isnull=True)), last=Max("pk")
    )
    return {"unread_notifications": totals["unread"], "last_notification_id": totals["last"] or 0}
