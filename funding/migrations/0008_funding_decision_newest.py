from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funding", "0007_funding_rounds_as_rule_tables"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="fundingdecision",
            index=models.Index(fields=["-assessed_at", "-id"], name="funding_decision_newest"),
        ),
    ]
