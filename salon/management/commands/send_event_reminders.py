from django.core.management.base import BaseCommand

from salon.services import reminders_send


class Command(BaseCommand):
    help = (
        "Remind confirmed attendees of salon events starting within 24 hours. "
        "Run it every few minutes from a scheduler; nobody is reminded twice."
    )

    def handle(self, *args, **options):
        sent = reminders_send()
        self.stdout.write(f"Sent {sent} salon event reminder(s).")
