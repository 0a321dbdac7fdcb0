"""The forum's sections by tumour location and its starting tags (SPEC section 4)."""

from django.db import migrations

CATEGORIES = [
    ("gastric-cancer", "Gastric cancer", "胃癌",
     "Stomach cancer: diagnosis, surgery, chemotherapy and life after gastrectomy.",
     "胃癌的诊断、手术、化疗以及胃切除术后的生活。"),
    ("colorectal-cancer", "Colorectal cancer", "结直肠癌",
     "Colon and rectal cancer: treatment, stomas, follow-up and recurrence.",
     "结肠癌与直肠癌的治疗、造口护理、随访与复发。"),
    ("hepatobiliary-pancreatic-cancer", "Hepatobiliary and pancreatic cancer", "肝胆胰肿瘤",
     "Liver, bile duct, gallbladder and pancreatic cancers.",
     "肝癌、胆管癌、胆囊癌与胰腺癌。"),
    ("gist", "Gastrointestinal stromal tumour (GIST)", "胃肠间质瘤（GIST）",
     "GIST: targeted therapy, surgery and long-term follow-up.",
     "胃肠间质瘤的靶向治疗、手术与长期随访。"),
    ("gep-net", "Neuroendocrine tumours (GEP-NET)", "神经内分泌肿瘤（GEP-NET）",
     "Gastroenteropancreatic neuroendocrine tumours.",
     "胃肠胰神经内分泌肿瘤。"),
    ("living-with-cancer", "Living with cancer (general)", "与癌症同行（综合）",
     "Daily life, nutrition, emotions, work and family during and after treatment.",
     "治疗期间及之后的日常生活、营养、情绪、工作与家庭。"),
]

TAGS = [
    ("chemotherapy", "Chemotherapy", "化疗"),
    ("targeted-therapy", "Targeted therapy", "靶向治疗"),
    ("immunotherapy", "Immunotherapy", "免疫治疗"),
    ("hyperthermia-hipec", "Hyperthermia and HIPEC", "热疗与HIPEC"),
    ("interventional-therapy", "Interventional therapy", "介入治疗"),
    ("nutrition", "Nutrition", "营养"),
    ("side-effects", "Side effects", "副作用"),
    ("clinical-trials", "Clinical trials", "临床试验"),
    ("surgery", "Surgery", "手术"),
    ("radiotherapy", "Radiotherapy", "放疗"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("forum", "Category")
    Tag = apps.get_model("forum", "Tag")
    for position, (slug, name, name_zh, description, description_zh) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "description": description,
                "description_zh": description_zh,
                "position": position,
            },
        )
    for slug, name, name_zh in TAGS:
        Tag.objects.update_or_create(slug=slug, defaults={"name": name, "name_zh": name_zh})


def unseed(apps, schema_editor):
    apps.get_model("forum", "Category").objects.filter(slug__in=[c[0] for c in CATEGORIES]).delete()
    apps.get_model("forum", "Tag").objects.filter(slug__in=[t[0] for t in TAGS]).delete()


class Migration(migrations.Migration):
    dependencies = [("forum", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
