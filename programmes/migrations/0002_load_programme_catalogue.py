from django.db import migrations

# A frozen copy of the catalogue as it was when this migration was written: later edits to
# programmes/catalogue.py must come with their own migration.
CATALOGUE = [
    # code, name, kind, delivery, window, extension, check-ins, line manager endorses
    ("NPQLT", "Leading Teaching", "specialist", 12, 3, 0, 3, False),
    ("NPQLBC", "Leading Behaviour and Culture", "specialist", 12, 3, 0, 3, False),
    ("NPQLTD", "Leading Teacher Development", "specialist", 12, 3, 0, 3, False),
    ("NPQLL", "Leading Literacy", "specialist", 12, 3, 0, 3, False),
    ("NPQLPM", "Leading Primary Mathematics", "specialist", 12, 3, 0, 3, False),
    ("NPQSL", "Senior Leadership", "leadership", 18, 3, 0, 4, False),
    ("NPQH", "Headship", "leadership", 18, 3, 6, 4, True),
    ("NPQEL", "Executive Leadership", "leadership", 18, 3, 0, 4, True),
    ("NPQEYL", "Early Years Leadership", "leadership", 18, 3, 0, 4, False),
    (
        "NPQSENCO",
        "NPQ for Special Educational Needs Co-ordinators",
        "leadership",
        18,
        4,
        0,
        4,
        False,
    ),
    ("EHCO", "Early Headship Coaching Offer", "support_offer", 18, 0, 0, 0, False),
]


def load(apps, schema_editor):
    Programme = apps.get_model("programmes", "Programme")
    for order, (code, name, kind, delivery, window, extension, checkins, line_manager) in enumerate(
        CATALOGUE
    ):
        Programme.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "delivery_months": delivery,
                "assessment_window_months": window,
                "assessment_extension_months": extension,
                "mentor_checkins": checkins,
                "endorsed_by_line_manager": line_manager,
                "max_response_words": 1500,
                "display_order": order,
            },
        )


def unload(apps, schema_editor):
    apps.get_model("programmes", "Programme").objects.filter(
        code__in=[row[0] for row in CATALOGUE], courses__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("programmes", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
