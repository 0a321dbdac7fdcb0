"""Django's and allauth's sign-in events, turned into closed sockets."""

from allauth.account.signals import password_changed, password_reset, password_set
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from notifications import services


@receiver(user_logged_out)
def close_sockets_of_ended_session(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        services.sessions_revoke(session_key=session.session_key)


@receiver(password_changed)
@receiver(password_reset)
@receiver(password_set)
def close_sockets_after_password_change(sender, request, user, **kwargs):
    services.sessions_revoke(user_id=user.pk)
