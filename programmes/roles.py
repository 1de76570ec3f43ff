"""What each hub staff role may do, as data. Synced to Django auth groups after every migrate."""

from django.apps import apps
from django.contrib.auth.management import create_permissions

HUB_ADMIN_GROUP = "Hub administrator"
FACILITATOR_GROUP = "Facilitator"
# Staff of a lead provider: hub administrators of all its hubs (dfe/services.py) and of its DfE link.
LEAD_PROVIDER_GROUP = "Lead provider staff"

# Django auth group -> {"app.model": actions}. Rows are further limited to the user's hub
# (hub administrators) or groups (facilitators) by programmes.selectors.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    HUB_ADMIN_GROUP: {
        "programmes.hub": ("view",),
        "programmes.programme": ("view",),
        "programmes.cohort": ("view", "add", "change"),
        "programmes.course": ("view", "add", "change"),
        "programmes.group": ("view", "add", "change", "delete"),
        "engagement.activity": ("view", "add", "change", "delete"),
        "programmes.participant": ("view", "add", "change"),
        "engagement.attendance": ("view", "add", "change"),
        "programmes.freedplace": ("view",),
        "funding.fundinground": ("view",),
        "funding.fundingdecision": ("view", "change"),
        "funding.fundingreview": ("view", "change"),
        "funding.institution": ("view",),
        "applications.application": ("view", "change"),
        "assessment.assessmentwindow": ("view", "add", "change"),
        "assessment.entry": ("view", "change"),
        "dfe.dfeapplication": ("view",),
        "dfe.dfewrite": ("view",),
        "dfe.declaration": ("view",),
        "dfe.evidence": ("view",),
    },
    LEAD_PROVIDER_GROUP: {
        "dfe.leadprovideraccount": ("view", "change"),
        "dfe.deliverypartner": ("view", "add", "change", "delete"),
        "dfe.dfecohort": ("view", "add", "change"),
        "dfe.syncrun": ("view",),
        "dfe.schedule": ("view",),
        "dfe.milestone": ("view",),
        "dfe.earningrule": ("view", "add", "change", "delete"),
        "dfe.outputprice": ("view",),
    },
    FACILITATOR_GROUP: {
        "programmes.hub": ("view",),
        "programmes.programme": ("view",),
        "programmes.cohort": ("view",),
        "programmes.course": ("view",),
        "programmes.group": ("view",),
        "engagement.activity": ("view",),
        "programmes.participant": ("view",),
        "engagement.attendance": ("view", "add", "change"),
    },
}


def sync_role_groups(**kwargs: object) -> None:
    """Create or update the role groups so that their permissions are exactly ROLE_PERMISSIONS."""
    from django.contrib.auth.models import Group, Permission

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for group_name, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for label, actions in grants.items():
            app_label, model = label.split(".")
            for action in actions:
                wanted.append(
                    Permission.objects.get(
                        content_type__app_label=app_label,
                        content_type__model=model,
                        codename=f"{action}_{model}",
                    )
                )
        group.permissions.set(wanted)
