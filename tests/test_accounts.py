"""Sign-up, email verification, sign-in, sign-out, password reset and login rate limiting."""

import re

import pytest
from django.core import mail

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def link_in_last_email() -> str:
    return re.search(r"https?://testserver(/\S+)", mail.outbox[-1].body).group(1)


def test_user_signs_in_with_email_and_has_no_username():
    user = User.objects.create_user(email="Teacher@School.Example", password=PASSWORD)
    assert user.email == "teacher@school.example"
    assert not hasattr(user, "username") or user.username is None
    assert User.USERNAME_FIELD == "email"


def test_two_accounts_cannot_differ_only_in_letter_case():
    from django.db import IntegrityError

    User.objects.create_user(email="a@school.example")
    with pytest.raises(IntegrityError):
        User.objects.create(email="A@school.example")


def test_sign_up_sends_a_verification_email_and_the_link_signs_you_in(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new.teacher@school.example", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.teacher@school.example"]
    # Not verified yet: signing in is refused until the address is confirmed.
    client.logout()
    response = client.post("/accounts/login/", {"login": "new.teacher@school.example", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session

    confirm_url = link_in_last_email()
    assert client.get(confirm_url).status_code == 200
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email="new.teacher@school.example").pk)


def test_sign_in_page_shows_errors_in_the_govuk_pattern(client):
    response = client.post("/accounts/login/", {"login": "", "password": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: " in html
    assert 'class="govuk-error-summary"' in html
    assert 'href="#id_login"' in html  # the summary links to the field
    assert "govuk-form-group--error" in html and "govuk-error-message" in html


def test_sign_in_and_sign_out(client):
    user = UserFactory(email="alice@school.example")
    response = client.post("/accounts/login/", {"login": "alice@school.example", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_repeated_failed_sign_ins_are_rate_limited(client):
    UserFactory(email="alice@school.example")
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": "alice@school.example", "password": "wrong"})
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    # Now even the right password is refused for a while.
    response = client.post("/accounts/login/", {"login": "alice@school.example", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


def test_password_reset_by_email(client):
    user = UserFactory(email="alice@school.example")
    response = client.post("/accounts/password/reset/", {"email": "alice@school.example"})
    assert response.status_code == 302
    reset_url = link_in_last_email()
    response = client.get(reset_url, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else reset_url
    response = client.post(
        form_url, {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase")


def test_pages_are_govuk_styled_with_skip_link_header_and_phase_banner(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'class="govuk-skip-link"' in html
    assert 'class="govuk-service-navigation__service-name"' in html
    assert 'class="govuk-phase-banner"' in html
    assert 'class="govuk-footer"' in html
    assert "vendor/govuk-frontend/govuk-frontend.min.css" in html
    assert "<title>Sign in – NPQ Portal</title>" in html
