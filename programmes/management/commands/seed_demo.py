from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from programmes.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create demo data (a hub, cohorts, groups, ~50 participants, an account per role)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Allow running with DJANGO_ENV=production.")

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["force"]:
            raise CommandError(
                "seed_demo creates accounts with a published password; it refuses to run when "
                "DJANGO_ENV=production (pass --force if you really mean it)."
            )
        accounts = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at /accounts/login/ with:"))
        for account in accounts:
            self.stdout.write(f"  {account.role:<32} {account.email:<34} password: {DEMO_PASSWORD}")
