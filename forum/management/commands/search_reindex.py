"""Index every question again: after the glossary (forum/vocabulary.toml) or the tokeniser changes."""

import time

from django.core.management.base import BaseCommand

from forum import search
from forum.models import Answer, Question


class Command(BaseCommand):
    help = "Rebuild every question's search document, vector and boost."

    def handle(self, *args, **options):
        started = time.monotonic()
        count = search.reindex(Question, Answer)
        self.stdout.write(f"Indexed {count} questions in {time.monotonic() - started:.1f} s.")
