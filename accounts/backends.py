"""Django's and allauth's authentication backends, loading the session's user in one query.

Every signed-in request loads its user; ``core.memberpage.load_user`` reads
the same row as Django's ``ModelBackend.get_user`` and brings the bell and
the member's unpublished questions with it, so a member's page from the
shared cache needs no query of its own. Signing in is unchanged.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from core.memberpage import load_user


class _SessionUser:
    def get_user(self, user_id):
        user = load_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_SessionUser, DjangoModelBackend):
    pass


class AuthenticationBackend(_SessionUser, AllauthBackend):
    pass
