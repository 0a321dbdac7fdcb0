from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MdtConfig(AppConfig):
    name = "mdt"
    verbose_name = _("MDT online")
