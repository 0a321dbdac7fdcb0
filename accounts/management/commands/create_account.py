from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations

from accounts.models import User
from accounts.services import account_create


class Command(BaseCommand):
    help = "Create an active account with a confirmed e-mail address."

    def add_arguments(self, parser):
        # The role is checked by the service, not argparse, so a wrong one
        # gets the same one-line message as every other bad input.
        parser.add_argument("--role", required=True, help="patient, doctor or moderator")
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--verified", action="store_true", help="make a doctor's physician profile verified"
        )

    @no_translations
    def handle(self, *args, role, email, password, name, verified, **options):
        try:
            user = account_create(
                email=email, password=password, role=role, name=name, verified=verified
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=2) from None
        detail = ""
        if user.role == User.Role.DOCTOR:
            detail = " (verified physician)" if verified else " (physician, awaiting verification)"
        self.stdout.write(f"Created {user.role} {user.email}{detail}.")
