"""Physicians' hospital and department in Chinese, for the Chinese pages.

Profiles that carry the department's defaults (SHUKANG_HOSPITAL,
SHUKANG_DEPARTMENT) get the defaults' Chinese forms too.
"""

from django.conf import settings
from django.db import migrations, models


def fill_default_names(apps, schema_editor):
    PhysicianProfile = apps.get_model("accounts", "PhysicianProfile")
    PhysicianProfile.objects.filter(hospital=settings.SHUKANG_HOSPITAL, hospital_zh="").update(
        hospital_zh=settings.SHUKANG_HOSPITAL_ZH
    )
    PhysicianProfile.objects.filter(
        department=settings.SHUKANG_DEPARTMENT, department_zh=""
    ).update(department_zh=settings.SHUKANG_DEPARTMENT_ZH)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_suspension_and_deletion"),
    ]

    operations = [
        migrations.AddField(
            model_name="physicianprofile",
            name="department_zh",
            field=models.CharField(
                blank=True,
                help_text="Shown to readers of the Chinese pages; leave empty if it is the same.",
                max_length=120,
                verbose_name="department in Chinese",
            ),
        ),
        migrations.AddField(
            model_name="physicianprofile",
            name="hospital_zh",
            field=models.CharField(
                blank=True,
                help_text="Shown to readers of the Chinese pages; leave empty if it is the same.",
                max_length=120,
                verbose_name="hospital in Chinese",
            ),
        ),
        migrations.RunPython(fill_default_names, migrations.RunPython.noop),
    ]
