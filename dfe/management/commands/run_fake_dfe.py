"""Serve the fake DfE (dfe/fake/) for the demo: `make run` in one terminal, this in another."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dfe.fake import FakeDfe, FakeDfeServer
from dfe.identifiers import COURSE_IDENTIFIERS

DEMO_TOKEN = "demo-dfe-token"  # noqa: S105 - the fake's own, published for the demo


class Command(BaseCommand):
    help = (
        "Serve a fake of DfE's lead provider API v3 on 127.0.0.1 (for the demo, never production), "
        "holding DfE applications for the demo's submitted applications and one teacher not yet in the portal."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--lead-provider", default="Demo Lead Provider")
        parser.add_argument(
            "--declare-started",
            action="store_true",
            help="Record a started declaration at the fake for each application accepted (so that a "
            "withdrawal can be shown before the portal sends declarations).",
        )
        parser.add_argument(
            "--store-token",
            action="store_true",
            help="Also store the fake's token as the lead provider's DfE token (needs DFE_TOKEN_KEY).",
        )

    def handle(self, *args, **options):
        from applications.models import Application
        from programmes.models import LeadProvider

        if settings.PRODUCTION:
            raise CommandError(
                "The fake DfE is for tests and the demo; it does not run with DJANGO_ENV=production."
            )
        name = options["lead_provider"]
        provider = LeadProvider.objects.filter(name=name).first()
        if provider is None:
            raise CommandError(f"No lead provider called {name!r}: run `python manage.py seed_demo` first.")
        fake = FakeDfe()
        fake.declare_started_on_accept = options["declare_started"]
        fake.add_provider(name, DEMO_TOKEN)
        submitted = (
            Application.objects.filter(cohort__hub__lead_provider=provider, course__isnull=False)
            .exclude(status=Application.Status.DRAFT)
            .exclude(trn="")
            .select_related("user", "course__programme")
        )
        for application in submitted:
            fake.add_application(
                provider=name,
                full_name=application.full_name or application.user.full_name,
                email=application.user.email,
                trn=application.trn,
                course_identifier=COURSE_IDENTIFIERS[application.course.programme.code],
            )
        fake.add_application(
            provider=name,
            full_name="Dev Patel",
            email="dev.patel@demo.npq-portal.test",
            trn="2200001",
            course_identifier="npq-senior-leadership",
        )
        if options["store_token"]:
            from dfe.services import token_set

            token_set(lead_provider=provider, token=DEMO_TOKEN)
            self.stdout.write(f"Stored the fake's token as {name}'s DfE API token.")
        server = FakeDfeServer(fake, port=options["port"])
        self.stdout.write(
            self.style.SUCCESS(f"Fake DfE for {name} at {server.url} (token {DEMO_TOKEN!r}), holding:")
        )
        for row in fake.applications.values():
            a = row["attributes"]
            self.stdout.write(
                f"  {a['full_name']:<24} {a['course_identifier']:<32} TRN {a['teacher_reference_number']}"
            )
        self.stdout.write(
            f"Start the portal with DFE_API_URL={server.url}, then `python manage.py dfe_sync`. "
            f"DfE's side as the fake holds it: {server.url}/_fake/state. Ctrl-C stops it."
        )
        try:
            server.httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()
