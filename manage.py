#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        if settings.configured:
            raise
        # The settings refused to load (a missing secret key): that is a setup
        # step to tell the user in one line, not a crash to show as a traceback.
        sys.exit(str(error))


if __name__ == "__main__":
    main()
