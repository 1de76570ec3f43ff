"""allauth's pages and emails in the portal's words: the service's name (not example.com), GOV.UK
sentence case and plain words, one success banner at a time."""

import re
from html import unescape
from pathlib import Path

import allauth
import pytest
from django.conf import settings
from django.contrib.sites.models import Site
from django.core import mail
from django.core.management.sql import emit_post_migrate_signal
from django.template.loader import render_to_string

from accounts.sites import site_domain
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

# Words that keep their capital letter inside a sentence.
PROPER = {"NPQ", "NPQs", "National", "Professional", "Qualification", "Qualifications", "England", "I"}
# allauth's own wording that must not reach people.
ALLAUTH_WORDING = (
    "Bad Token",
    "Remember Me",
    "Forgot Password",
    "Forgot your password",
    "Sign In",
    "Sign Up",
    "Signup",
    "Hello from",
    "example.com",
    "E-mail",
)


def sentence_case_problems(text: str) -> list[str]:
    """Words after the first that start with a capital letter but are not names."""
    text = text.replace(settings.SERVICE_NAME, "")
    words = re.findall(r"[A-Za-z][\w'-]*", text)
    return [w for w in words[1:] if w[0].isupper() and w not in PROPER]


def title_and_h1(html: str) -> tuple[str, str]:
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    title = unescape(title).rsplit(" – ", 1)[0].strip()
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    h1 = unescape(re.sub(r"<[^>]+>", "", h1)).strip()
    return title, h1


def link_in_last_email() -> str:
    return re.search(r"https?://testserver(/\S+)", mail.outbox[-1].body).group(1)


def sign_up(client, email: str = "new.teacher@school.example"):
    return client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


# --- The Sites record ------------------------------------------------------------------------


def test_the_site_is_named_after_the_service_not_example_com():
    site = Site.objects.get_current()
    assert site.name == settings.SERVICE_NAME
    assert site.domain == site_domain(settings.SITE_URL)
    assert "example.com" not in site.domain


def test_every_migrate_brings_the_site_in_line_with_the_settings(settings):
    settings.SERVICE_NAME = "Northfield NPQs"
    settings.SITE_URL = "https://npq.northfield.example/"
    Site.objects.filter(pk=settings.SITE_ID).update(name="example.com", domain="example.com")
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    site = Site.objects.get_current()
    assert (site.name, site.domain) == ("Northfield NPQs", "npq.northfield.example")


def test_a_missing_site_is_made_again_by_migrate(settings):
    Site.objects.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert Site.objects.get(pk=settings.SITE_ID).name == settings.SERVICE_NAME


# --- Emails -------------------------------------------------------------------------------------


def test_the_confirmation_email_names_the_service_not_example_com(client):
    sign_up(client)
    message = mail.outbox[-1]
    assert message.subject == f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Confirm your email address"
    assert settings.SERVICE_NAME in message.body
    for wording in ("example.com", "Hello from", "Thank you for using"):
        assert wording not in message.body
    assert "/accounts/confirm-email/" in message.body


def test_the_password_reset_email_is_in_plain_words(client):
    UserFactory(email="alice@school.example")
    client.post("/accounts/password/reset/", {"email": "alice@school.example"})
    message = mail.outbox[-1]
    assert message.subject.endswith("Reset your password")
    assert "/accounts/password/reset/key/" in message.body
    assert settings.SERVICE_NAME in message.body and "example.com" not in message.body


def allauth_email_templates() -> list[str]:
    root = Path(allauth.__file__).parent / "templates"
    return sorted(
        str(path.relative_to(root))
        for folder in ("account/email", "mfa/email")
        for path in (root / folder).glob("*.txt")
    )


@pytest.mark.parametrize("name", allauth_email_templates())
def test_every_email_allauth_sends_is_the_portals_own(rf, name):
    """Each of allauth's email templates is overridden in templates/, names the service and uses
    sentence case in its subject."""
    assert (Path(settings.BASE_DIR) / "templates" / name).exists(), f"templates/{name} is missing"
    request = rf.get("/")
    context = {
        "current_site": Site.objects.get_current(),
        "user": UserFactory.build(email="alice@school.example"),
        "email": "alice@school.example",
        "activate_url": "http://testserver/accounts/confirm-email/KEY/",
        "password_reset_url": "http://testserver/accounts/password/reset/key/1-KEY/",
        "signup_url": "http://testserver/accounts/signup/",
        "code": "",
        "from_email": "old@school.example",
        "to_email": "new@school.example",
        "deleted_email": "old@school.example",
        "ip": "192.0.2.1",
        "user_agent": "Firefox",
        "timestamp": None,
    }
    text = render_to_string(name, context, request).strip()
    for wording in ALLAUTH_WORDING:
        assert wording not in text, (name, wording)
    if name.endswith("_subject.txt"):
        assert text and not sentence_case_problems(text), (name, text)
    elif not name.startswith("account/email/base_"):
        assert settings.SERVICE_NAME in text, name


# --- Pages --------------------------------------------------------------------------------------

ANONYMOUS_PAGES = {
    "/accounts/login/": ("Sign in", "Sign in"),
    "/accounts/signup/": ("Create an account", "Create an account"),
    "/accounts/password/reset/": ("Reset your password", "Reset your password"),
    "/accounts/password/reset/done/": ("Check your email", "Check your email"),
    "/accounts/confirm-email/": ("Check your email", "Check your email"),
    "/accounts/confirm-email/not-a-real-key/": ("This link cannot be used", "This link cannot be used"),
    "/accounts/password/reset/key/1-not-a-real-key/": (
        "This link cannot be used",
        "This link cannot be used",
    ),
}
SIGNED_IN_PAGES = {
    "/accounts/logout/": ("Sign out", "Are you sure you want to sign out?"),
    "/accounts/password/change/": ("Change your password", "Change your password"),
    "/accounts/email/": ("Your email addresses", "Your email addresses"),
    "/accounts/reauthenticate/": ("Confirm it is you", "Confirm it is you"),
}


def check_page(html: str, title: str, heading: str) -> None:
    assert title_and_h1(html) == (title, heading)
    assert not sentence_case_problems(title) and not sentence_case_problems(heading)
    for wording in ALLAUTH_WORDING:
        assert wording not in html, wording


@pytest.mark.parametrize(("url", "expected"), ANONYMOUS_PAGES.items())
def test_account_pages_are_sentence_case_and_plain(client, url, expected):
    response = client.get(url, follow=True)
    assert response.status_code == 200
    check_page(response.content.decode(), *expected)


@pytest.mark.parametrize(("url", "expected"), SIGNED_IN_PAGES.items())
def test_signed_in_account_pages_are_sentence_case_and_plain(client, url, expected):
    client.force_login(UserFactory(email="alice@school.example"))
    response = client.get(url)
    assert response.status_code == 200
    check_page(response.content.decode(), *expected)


def test_a_confirmation_link_page_asks_to_confirm_in_plain_words(client):
    sign_up(client)
    html = client.get(link_in_last_email()).content.decode()
    check_page(html, "Confirm your email address", "Confirm your email address")
    assert "new.teacher@school.example" in html and "Confirm email address" in html


def test_a_bad_password_reset_link_says_what_went_wrong_and_what_to_do(client):
    html = client.get("/accounts/password/reset/key/1-set-password/", follow=True).content.decode()
    assert "This link cannot be used" in html
    assert "has expired or has already been used" in html
    assert 'href="/accounts/password/reset/"' in html
    assert "token" not in html.lower()


def test_the_sign_in_form_has_labels_and_errors_in_govuk_words(client):
    html = client.post("/accounts/login/", {"login": "", "password": ""}).content.decode()
    assert "Enter your email address" in html and "Enter your password" in html
    assert "This field is required" not in html
    assert 'autocomplete="email"' in html and 'autocomplete="current-password"' in html
    assert "placeholder" not in html and 'name="remember"' not in html


def test_a_password_is_never_written_back_into_the_page(client):
    html = client.post("/accounts/login/", {"login": "x@school.example", "password": "s3cret-typed"})
    assert "s3cret-typed" not in html.content.decode()


# --- One banner, not two ------------------------------------------------------------------------


def banners(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'class="govuk-notification-banner__heading">(.*?)</p>', html, re.S)


def test_confirming_your_email_shows_one_banner(client):
    sign_up(client)
    assert banners(client.get("/accounts/confirm-email/")) == []  # the page says it: no banner too
    response = client.post(link_in_last_email(), follow=True)
    assert banners(response) == ["Your email address new.teacher@school.example is confirmed."]


def test_signing_in_shows_no_banner_and_signing_out_one(client):
    UserFactory(email="alice@school.example")
    response = client.post(
        "/accounts/login/", {"login": "alice@school.example", "password": PASSWORD}, follow=True
    )
    assert banners(response) == []
    assert banners(client.post("/accounts/logout/", follow=True)) == ["You have signed out."]


def test_resetting_a_password_shows_the_done_page_without_a_banner(client):
    UserFactory(email="alice@school.example")
    client.post("/accounts/password/reset/", {"email": "alice@school.example"})
    response = client.get(link_in_last_email(), follow=True)
    form_url = response.redirect_chain[-1][0]
    new = "a-new-long-passphrase"
    response = client.post(form_url, {"password1": new, "password2": new}, follow=True)
    assert "Your password has been reset" in response.content.decode()
    assert banners(response) == []


def test_changing_a_password_shows_one_banner(client):
    client.force_login(UserFactory(email="alice@school.example"))
    new = "a-new-long-passphrase"
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
        follow=True,
    )
    assert banners(response) == ["Your password has been changed."]


def test_sending_a_confirmation_link_again_from_the_email_page_shows_one_banner(client):
    user = UserFactory(email="alice@school.example")
    client.force_login(user)
    client.post("/accounts/email/", {"email": "head@school.example", "action_add": ""})
    response = client.post(
        "/accounts/email/", {"email": "head@school.example", "action_send": ""}, follow=True
    )
    assert banners(response) == [
        "We have sent a link to head@school.example. Open it to confirm the address."
    ]


@pytest.mark.parametrize(
    ("template", "heading"),
    [
        ("mfa/totp/deactivate_form.html", "Turn off two-factor authentication"),
        ("mfa/recovery_codes/generate.html", "Make new recovery codes"),
    ],
)
def test_two_factor_pages_allauth_would_show_in_title_case_are_the_portals(rf, template, heading):
    from django.contrib.auth.models import AnonymousUser
    from django.forms import Form

    request = rf.get("/")
    request.user = AnonymousUser()
    html = render_to_string(template, {"form": Form(), "unused_code_count": 3}, request)
    check_page(html, heading, heading)
