"""The Sites record names the service (SERVICE_NAME, the host of SITE_URL), not example.com."""

from django.db import migrations


def name_the_site(apps, schema_editor):
    from accounts.sites import site_sync

    site_sync(site_model=apps.get_model("sites", "Site"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [migrations.RunPython(name_the_site, migrations.RunPython.noop)]
