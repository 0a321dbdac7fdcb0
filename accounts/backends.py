"""Django's and allauth's authentication backends, loading the session's user in one query.

Every signed-in request loads its user; ``core.memberpage.load_user`` reads
the same row as Django's ``ModelBackend.get_user`` and brings the bell and
the member's unpublished questions with it, so a member's page from the
shared cache needs no query of its own. A page being read may take the
user from the process's cache instead (``core.sessionuser``). Signing in
is unchanged.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from core import sessionuser
from core.memberpage import load_user


class _SessionUser:
    def get_user(self, user_id):
        user = sessionuser.load(user_id, load_user)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_SessionUser, DjangoModelBackend):
    pass


class AuthenticationBackend(_SessionUser, AllauthBackend):
    pass
