from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttachmentsConfig(AppConfig):
    name = "attachments"
    verbose_name = _("Reports and images")

    def ready(self):
        from attachments import moderated

        moderated.register()
