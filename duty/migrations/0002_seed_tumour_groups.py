"""The department's five tumour groups, each with the 48-hour answer target."""

from django.db import migrations

GROUPS = ("gastric-cancer", "colorectal-cancer", "hepatobiliary-pancreatic-cancer", "gist", "gep-net")


def seed(apps, schema_editor):
    Category = apps.get_model("forum", "Category")
    TumourGroup = apps.get_model("duty", "TumourGroup")
    for category in Category.objects.filter(slug__in=GROUPS):
        TumourGroup.objects.get_or_create(category=category, defaults={"target_hours": 48})


class Migration(migrations.Migration):
    dependencies = [
        ("duty", "0001_initial"),
        ("forum", "0002_seed_categories_and_tags"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
