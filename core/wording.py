"""Messages of allauth and Django that the site translates its own way (locale/).

Their own Chinese catalogues mix "Email地址", "Email" and 电子邮件, and leave
Django's "- Select an option -" in English; the site says 电子邮件 and 电子邮件地址
throughout. Naming the messages here keeps them in the site's catalogue
when `make messages` rebuilds it, since it drops whatever the code does not say.
"""

from django.utils.translation import gettext_noop

OVERRIDDEN = [
    # Django: forms and validators.
    gettext_noop("- Select an option -"),
    gettext_noop("Enter a valid email address."),
    # allauth: the e-mail pages, their messages and their e-mails.
    gettext_noop("Username or email"),
    gettext_noop("Email Addresses"),
    gettext_noop("The following email addresses are associated with your account:"),
    gettext_noop("Primary"),
    gettext_noop("Re-send Verification"),
    gettext_noop("Add Email Address"),
    gettext_noop("Add Email"),
    gettext_noop("Do you really want to remove the selected email address?"),
    gettext_noop("Email Changed"),
    gettext_noop("Your email has been confirmed."),
    gettext_noop("Email Confirmation"),
    gettext_noop("Please Confirm Your Email Address"),
    gettext_noop("Email address %(deleted_email)s has been removed from your account."),
    gettext_noop("Email Removed"),
    gettext_noop("Email Address"),
    gettext_noop("Current email"),
    gettext_noop("Change Email"),
    gettext_noop("Confirm Email Address"),
    gettext_noop("You cannot remove your primary email address (%(email)s)."),
    gettext_noop("You have confirmed %(email)s."),
    gettext_noop("Removed email address %(email)s."),
    gettext_noop("Primary email address set."),
    gettext_noop("Verify Your Email Address"),
]
