"""Staff sign-in goes through the portal's sign-in (rate limits, verified email, two factors)."""

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail

from tests.factories import PASSWORD, HubFactory, HubStaffFactory, UserFactory, totp_code

pytestmark = pytest.mark.django_db


def sign_in(client, email: str, password: str = PASSWORD, next_url: str = "/admin/"):
    return client.post(f"/accounts/login/?next={next_url}", {"login": email, "password": password})


def test_admin_sign_in_page_sends_you_to_the_portals_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_posting_a_password_to_the_admin_sign_in_signs_nobody_in(client):
    staff = HubStaffFactory(hub=HubFactory())
    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_admin_sign_in_does_not_send_you_to_another_site(client):
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_repeated_wrong_passwords_lock_a_staff_account_out_even_with_the_right_one(client):
    staff = HubStaffFactory(hub=HubFactory())
    for _ in range(6):
        sign_in(client, staff.email, "wrong-password")
    response = sign_in(client, staff.email)
    assert "_auth_user_id" not in client.session
    assert "Too many failed" in response.content.decode()


def test_staff_account_with_an_unverified_email_cannot_sign_in(client):
    # Registering a future staff member's address first must not hand over their account.
    staff = HubStaffFactory(hub=HubFactory(), verified=False)
    response = sign_in(client, staff.email)
    assert "_auth_user_id" not in client.session
    assert response["Location"] == "/accounts/confirm-email/"
    assert mail.outbox[-1].to == [staff.email]


def test_staff_with_an_authenticator_give_its_code_before_admin_opens(client):
    staff = HubStaffFactory(hub=HubFactory())
    response = sign_in(client, staff.email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session  # the password alone opened nothing
    assert client.get("/admin/").status_code == 302

    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert "_auth_user_id" not in client.session

    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(staff)})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_also_completes_staff_sign_in(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    staff = HubStaffFactory(hub=HubFactory())
    code = RecoveryCodes.activate(staff).get_unused_codes()[0]
    sign_in(client, staff.email)
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response["Location"] == "/admin/"
    client.logout()
    sign_in(client, staff.email)
    client.post("/accounts/2fa/authenticate/", {"code": code})  # used once already
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/admin/", "/admin/programmes/participant/", "/marking/"])
def test_staff_without_an_authenticator_must_set_one_up_before_any_staff_page(client, path):
    staff = HubStaffFactory(hub=HubFactory(), two_factor=False)
    client.force_login(staff)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_superuser_without_an_authenticator_is_sent_to_set_one_up(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, two_factor=False))
    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"


def test_someone_made_staff_after_signing_in_must_set_up_two_factor_first(client):
    user = UserFactory()
    client.force_login(user)
    user.is_staff = True
    user.save()
    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"


def test_setting_up_the_authenticator_opens_admin(client):
    staff = HubStaffFactory(hub=HubFactory(), two_factor=False)
    sign_in(client, staff.email)  # no authenticator yet: the password signs in
    response = client.get("/admin/")
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    # Changing how one signs in asks for the password again (allauth's reauthentication).
    response = client.get(response["Location"])
    assert response["Location"].startswith("/accounts/reauthenticate/")
    client.post(response["Location"], {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    code = format_hotp_value(hotp_value(secret, int(__import__("time").time()) // 30))
    response = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    assert client.get("/admin/").status_code == 200


def test_participants_use_the_portal_without_two_factor_and_may_opt_in(client):
    teacher = UserFactory()
    sign_in(client, teacher.email, next_url="/")
    assert client.session["_auth_user_id"] == str(teacher.pk)
    assert client.get("/").status_code == 200
    assert client.get("/accounts/2fa/").status_code == 200


def test_a_signed_in_teacher_who_opens_admin_is_told_it_is_for_hub_staff(client):
    client.force_login(UserFactory())
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "You cannot use hub administration" in response.content.decode()
