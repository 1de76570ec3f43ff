import re

from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from npq_portal.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_totp_code, seed_demo


class Command(BaseCommand):
    help = "Create demo data (a hub, cohorts, groups, ~50 participants, applications, an account per role)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Allow running with DJANGO_ENV=production.")
        parser.add_argument(
            "--code",
            action="store_true",
            help="Only print the two-factor code that demo staff accounts need now.",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["force"]:
            raise CommandError(
                "seed_demo creates accounts with a published password; it refuses to run when "
                "DJANGO_ENV=production (pass --force if you really mean it)."
            )
        if options["code"]:
            self.stdout.write(demo_totp_code())
            return
        # The demo's emails are kept, not sent: the endorsement link is printed below instead.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            accounts = seed_demo()
            links = [m for m in mail.outbox if "/endorse/" in m.body]
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at /accounts/login/ with:"))
        for account in accounts:
            self.stdout.write(f"  {account.role:<32} {account.email:<34} password: {DEMO_PASSWORD}")
        self.stdout.write(
            "Staff accounts (sam, fran, admin) also give a code from an authenticator app: add the "
            f"setup key {DEMO_TOTP_SECRET} to one, or run `make demo-code` for the current code."
        )
        from applications.services import EndorsementLinkError, endorsement_for_token

        for message in links:
            link = re.search(r"\S+/endorse/(\S+)/", message.body)
            try:
                endorsement_for_token(link.group(1))
            except EndorsementLinkError:
                continue  # the demo has already answered this one
            self.stdout.write(f"Endorsement request emailed to {message.to[0]}: {link.group(0)}")
