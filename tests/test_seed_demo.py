import re

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from programmes.models import Cohort, Group, Hub, Participant

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # commits, as `make run` does
def test_seed_demo_creates_a_hub_with_cohorts_groups_participants_and_role_accounts(client, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    hub = Hub.objects.get()
    assert Cohort.objects.filter(hub=hub).count() == 2
    assert Group.objects.filter(course__cohort__hub=hub).count() >= 2
    assert Participant.objects.count() == 50
    for email in ("alice@", "hana@", "sam@", "fran@", "admin@"):
        assert email in out
    assert "password: npq-demo-2026" in out
    # Hana's pending endorsement link is printed, and works for her.
    assert out.count("Endorsement request emailed to") == 1  # only the one still waiting
    link = re.search(
        r"Endorsement request emailed to hana@demo.npq-portal.test: \S+(/endorse/\S+/)", out
    ).group(1)
    client.force_login(User.objects.get(email="hana@demo.npq-portal.test"))
    assert "Endorse Alice Adeyemi" in client.get(link).content.decode()
    client.logout()
    assert User.objects.get(email="admin@demo.npq-portal.test").is_superuser
    # The printed details really sign in.
    response = client.post(
        "/accounts/login/", {"login": "alice@demo.npq-portal.test", "password": "npq-demo-2026"}
    )
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "Your NPQs" in html and "Leading Teaching (NPQLT)" in html
    client.logout()
    # Demo staff sign in with the printed password and the code `seed_demo --code` prints.
    assert "setup key" in out
    response = client.post(
        "/accounts/login/", {"login": "sam@demo.npq-portal.test", "password": "npq-demo-2026"}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    call_command("seed_demo", "--code")
    code = capsys.readouterr().out.strip()
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert client.get("/admin/").status_code == 200


def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo")
    counts = (User.objects.count(), Participant.objects.count(), Group.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Participant.objects.count(), Group.objects.count()) == counts


def test_seed_demo_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run when DJANGO_ENV=production"):
        call_command("seed_demo")
    assert not User.objects.exists()
