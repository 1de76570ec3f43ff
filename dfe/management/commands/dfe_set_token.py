"""Store a lead provider's DfE API token, read from standard input (never from the command line,
which other users of the machine and shell history can see)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from dfe.crypto import TokenKeyMissing
from dfe.services import token_set
from programmes.models import LeadProvider


class Command(BaseCommand):
    help = "Store a lead provider's DfE API token (read from standard input), encrypted with DFE_TOKEN_KEY."

    def add_arguments(self, parser):
        parser.add_argument("lead_provider", help="The lead provider's name, as in the portal.")

    def handle(self, *args, **options):
        provider = LeadProvider.objects.filter(name=options["lead_provider"]).first()
        if provider is None:
            raise CommandError(f"No lead provider called {options['lead_provider']!r}.")
        token = sys.stdin.readline().strip()
        if not token:
            raise CommandError("Give the token on standard input, e.g. `... dfe_set_token NAME < token.txt`.")
        try:
            token_set(lead_provider=provider, token=token)
        except (TokenKeyMissing, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Stored {provider}'s DfE API token, encrypted.")
