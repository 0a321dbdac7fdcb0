"""django-allauth, fitted to Shu-Kang (ACCOUNT_ADAPTER)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib import messages
from django.contrib.sites.shortcuts import get_current_site
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from notifications.models import OutgoingEmail
from notifications.services import emails_queue


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Queue sign-up, confirmation and password mail instead of sending it in the request.

        A mail server that is down must not turn a sign-up into an error
        page: the e-mail is stored and the worker retries until it has gone.
        """
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {
                "request": request,
                "email": email,
                "current_site": get_current_site(request),
                **context,
            },
        )
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", [])
                if mimetype == "text/html"
            ),
            "",
        )
        with transaction.atomic():
            emails_queue(
                [
                    OutgoingEmail(
                        recipient=User.objects.filter(email__iexact=email).first(),
                        to=email,
                        subject=message.subject,
                        body=message.body,
                        html_body=html,
                    )
                ]
            )

    def get_email_verification_redirect_url(self, email_address) -> str:
        """Lead a confirmed address onwards; say so when one sign-in is still needed.

        ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION signs a member in only in the
        browser session that signed up, within ACCOUNT_LOGIN_TIMEOUT. A link
        opened elsewhere (a phone's mail app) signs nobody in: whoever holds
        the link need not be the member. It ends on the sign-in form.
        """
        if not self.request.user.is_authenticated and email_address.verified:
            messages.info(
                self.request, _("Sign in with this address and your password to continue.")
            )
        return super().get_email_verification_redirect_url(email_address)
