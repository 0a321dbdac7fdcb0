from django.db import migrations

# The department's MDT since 2014: these six meet on every GEP-NET case.
DISCIPLINES = [
    ("Medical oncology", "肿瘤内科", "medical-oncology"),
    ("Surgical oncology", "肿瘤外科", "surgical-oncology"),
    ("Radiotherapy", "放射治疗科", "radiotherapy"),
    ("Pathology", "病理科", "pathology"),
    ("Radiology", "影像科", "radiology"),
    ("Nuclear medicine", "核医学科", "nuclear-medicine"),
]


def seed(apps, schema_editor):
    Discipline = apps.get_model("accounts", "Discipline")
    for position, (name, name_zh, slug) in enumerate(DISCIPLINES):
        Discipline.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_zh": name_zh, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_discipline")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
