"""Read DfE's changed applications and send open changes now (what the two scheduled jobs do)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dfe.client import DfeError, link_on
from dfe.models import DfeWrite, LeadProviderAccount
from dfe.participants import sync_participants
from dfe.sync import sync_applications
from dfe.writes import send_open_writes


class Command(BaseCommand):
    help = "Read every lead provider's applications changed at DfE, then send the changes still open."

    def handle(self, *args, **options):
        if not link_on():
            raise CommandError("The link to DfE is off: set DFE_API_URL (README, Configuration).")
        accounts = LeadProviderAccount.objects.exclude(token_encrypted="").select_related("lead_provider")
        if not accounts:
            raise CommandError("No lead provider has a DfE API token yet (admin: DfE API accounts).")
        for account in accounts:
            run = sync_applications(account=account)
            line = (
                f"{account.lead_provider}: {run.pulled} read, {run.created} new, {run.updated} changed, "
                f"{run.failed} failed"
            )
            self.stdout.write(line + (f" ({run.error})" if run.error else ""))
            if not run.error:
                try:
                    read = sync_participants(account=account)
                except DfeError as exc:
                    self.stdout.write(f"{account.lead_provider}: participants not read ({exc})")
                else:
                    self.stdout.write(f"{account.lead_provider}: {read} participant records read")
        settled = send_open_writes()
        still_open = DfeWrite.objects.filter(state__in=DfeWrite.OPEN_STATES).count()
        self.stdout.write(f"Changes sent to DfE: {settled} settled, {still_open} still open.")
