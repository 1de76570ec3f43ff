"""Hostile input to every public and participant page: never a 500, never a half-written record.

Every URL pattern outside admin is listed here, either as a form (posted with hostile values,
one field at a time over a valid answer, and all fields at once) or as a page read with hostile
query strings; a new pattern, or a new step of the funding checker or the application form,
fails ``test_every_public_url_is_covered`` until it is added. Run on PostgreSQL: NUL bytes only
fail there. Each request runs in a savepoint that is rolled back, so every one starts from the
same state; a refused one must leave the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from applications import wizard
from applications.models import Application
from funding import checker
from tests.factories import PASSWORD
from tests.hostile_support import World, attacked_world

pytestmark = pytest.mark.django_db


HOSTILE_VALUES: list[str | list[str]] = [
    "²",  # a digit to str.isdigit(), not to int()
    "١٢٣",  # Arabic-Indic digits: int() reads them
    "１２３",  # fullwidth digits
    "\x00",
    "Northfield\x00Academy",
    "x" * 10_000,
    "",
    "   ",
    "\t\r\n",
    "9" * 40,  # larger than any database integer
    "-1",
    "1e400",
    "31/02/2026",
    "29 2 2025",
    "1 1 99999",
    "<script>alert(1)</script>",
    "=1+2@evil.example",
    "\u202e\ufeff",  # right-to-left override, byte order mark
    ["1", "2"],  # the same key twice
    ["", "137001"],
]
QUERY_NAMES = ("q", "page", "format", "next", "step", "cohort", "id", "o", "sort", "download")


@dataclass
class Target:
    """A page to attack: where, as whom, and a post it accepts (None: a page that is only read)."""

    url: str
    user: str | None = None
    valid: dict[str, str] | None = None
    answers: dict | None = None  # the draft's answers while posting (application steps)


FUNDING_STEPS: dict[str, Callable[[World], dict[str, str]]] = {
    "course": lambda w: {"course": "NPQLT"},
    "in-england": lambda w: {"in_england": "yes"},
    "work-setting": lambda w: {"work_setting": "school"},
    "kind-of-nursery": lambda w: {"kind_of_nursery": "childminder"},
    "ofsted": lambda w: {"ofsted_urn": "EY123456"},
    "workplace": lambda w: {"workplace": "Northfield", "urn": "137001"},  # two match: choose one
    "employment": lambda w: {"employment_type": "hospital_school"},
    "itt-provider": lambda w: {"itt_provider": str(w.itt_provider.pk)},
    "return-to-teaching": lambda w: {"referred_by_return_to_teaching_adviser": "yes"},
    "headteacher": lambda w: {"headteacher": "yes", "years_as_headteacher": "2"},
    "npqh": lambda w: {"npqh_status": "completed", "withdrew_from_ehco_before": "no"},
}

APPLICATION_STEPS: dict[str, Callable[[World], dict[str, str]]] = {
    "in-england": lambda w: {"in_england": "yes"},
    "work-setting": lambda w: {"work_setting": "school"},
    "kind-of-nursery": lambda w: {"kind_of_nursery": "childminder"},
    "ofsted": lambda w: {"ofsted_urn": "EY123456"},
    "workplace": lambda w: {"workplace": "137001"},
    "employment": lambda w: {"employment_type": "lead_mentor_for_accredited_itt_provider"},
    "itt-provider": lambda w: {"itt_provider": str(w.itt_provider.pk)},
    "return-to-teaching": lambda w: {"referred_by_return_to_teaching_adviser": "yes"},
    "role": lambda w: {"role": "Head of maths"},
    "course": lambda w: {"course": str(w.profiles[0]["course"])},
    "headteacher": lambda w: {"headteacher": "yes", "years_as_headteacher": "2"},
    "npqh": lambda w: {"npqh_status": "completed", "withdrew_from_ehco_before": "no"},
    "senco": lambda w: {"senco_in_role_since": "9 2023"},
    "funding": lambda w: {"funding_seen": "True"},
    "payment": lambda w: {"payment": "school"},
    "trn": lambda w: {"trn": "1234567"},
    "identity": lambda w: {"full_name": "Alice Adeyemi", "date_of_birth": "27 3 1985"},
    "endorser": lambda w: {"endorser_name": "Hana Hughes", "endorser_email": "hana@school.example"},
    "mentor": lambda w: {"mentor_name": "Mo Mentor", "mentor_email": "mo@school.example"},
    "support": lambda w: {"support_requested": "yes"},
    "consent": lambda w: {"consent": "on"},
}


def _application_step(step: str) -> Callable[[World], Target]:
    def target(w: World) -> Target:
        answers = next((p for p in w.profiles if step in wizard.route(p)), None)
        assert answers is not None, f"no test profile reaches the application step {step!r}: add one"
        return Target(
            reverse("application_step", args=[w.draft.pk, step]),
            "alice",
            APPLICATION_STEPS[step](w),
            answers=answers,
        )

    return target


def _funding_step(step: str) -> Callable[[World], Target]:
    return lambda w: Target(reverse("funding_check_step", args=[step]), None, FUNDING_STEPS[step](w))


# URL name -> the page to attack. Names with a step are expanded below from the journeys' steps.
PAGES: dict[str, Callable[[World], Target]] = {
    "home": lambda w: Target(reverse("home"), "alice"),
    "healthz": lambda w: Target(reverse("healthz")),
    "status": lambda w: Target(reverse("status")),
    "funding_check": lambda w: Target(reverse("funding_check"), None, {}),
    "funding_check_result": lambda w: Target(reverse("funding_check_result")),
    "apply": lambda w: Target(reverse("apply"), "alice", {"cohort": str(w.draft.cohort_id)}),
    "application_detail": lambda w: Target(reverse("application_detail", args=[w.draft.pk]), "alice"),
    "application_check": lambda w: Target(
        reverse("application_check", args=[w.draft.pk]), "alice", {}, answers=w.profiles[0]
    ),
    "application_submitted": lambda w: Target(reverse("application_submitted", args=[w.draft.pk]), "alice"),
    "application_withdraw": lambda w: Target(
        reverse("application_withdraw", args=[w.draft.pk]), "alice", {"reason": "Moving abroad"}
    ),
    "endorsement": lambda w: Target(
        reverse("endorsement", args=[w.endorsement_token]),
        "hana",
        {"decision": "decline", "reason": "Not this year"},
    ),
    "employment_change": lambda w: Target(
        reverse("employment_change", args=[w.participant.pk]),
        "alice",
        {
            "workplace_name": "Riverside Free School",
            "role": "Deputy head",
            "headteacher_name": "Rita Reed",
            "headteacher_email": "rita@riverside.example",
        },
    ),
    "enrolment": lambda w: Target(reverse("enrolment", args=[w.participant.pk]), "alice"),
    "checkin_new": lambda w: Target(
        reverse("checkin_new", args=[w.participant.pk]), "alice", {"held_on": "1 6 2025", "notes": "Plan"}
    ),
    "checkin_confirm": lambda w: Target(reverse("checkin_confirm", args=[w.checkin_token]), None, {}),
    "my_notifications": lambda w: Target(reverse("my_notifications"), "alice"),
    "participant_assessment": lambda w: Target(
        reverse("participant_assessment", args=[w.participant.pk]), "alice", {"text": "My response"}
    ),
    "case_study_file": lambda w: Target(reverse("case_study_file", args=[w.participant.pk]), "alice"),
    "participant_response_file": lambda w: Target(
        reverse("participant_response_file", args=[w.participant.pk]), "alice"
    ),
    "marking_list": lambda w: Target(reverse("marking_list"), "marker"),
    "marking_script": lambda w: Target(
        reverse("marking_script", args=[w.assignment.pk]),
        "marker",
        {"result": "pass", "feedback": "Clear analysis"},
    ),
    "marking_response_file": lambda w: Target(
        reverse("marking_response_file", args=[w.assignment.pk]), "marker"
    ),
    "calendar": lambda w: Target(reverse("calendar"), "alice"),
    "calendar_rotate": lambda w: Target(reverse("calendar_rotate"), "alice", {}),
    "calendar_feed": lambda w: Target(reverse("calendar_feed", args=[w.calendar_token])),
    "privacy_notice": lambda w: Target(reverse("privacy_notice")),
    "privacy_your_data": lambda w: Target(reverse("privacy_your_data"), "alice", {}),
    "privacy_export_download": lambda w: Target(
        reverse("privacy_export_download", args=[_copy_of_data(w.alice).pk]), "alice"
    ),
    # Sign-in pages (django-allauth's forms in the portal's templates).
    "account_login": lambda w: Target(
        reverse("account_login"), None, {"login": "alice@school.example", "password": PASSWORD}
    ),
    "account_signup": lambda w: Target(
        reverse("account_signup"),
        None,
        {"email": "new@school.example", "password1": "a long pass phrase", "password2": "a long pass phrase"},
    ),
    "account_reset_password": lambda w: Target(
        reverse("account_reset_password"), None, {"email": "nobody@school.example"}
    ),
}
PAGES.update({f"application_step:{s}": _application_step(s) for s in wizard.STEPS})
PAGES.update({f"funding_check_step:{s}": _funding_step(s) for s in checker.STEPS})
STEP_PARAMETERS = {"application_step": wizard.STEPS, "funding_check_step": checker.STEPS}
# Tokens in the path, tried with hostile values too (each must answer 404, never 500).
TOKEN_URLS = ("endorsement", "checkin_confirm", "calendar_feed")


def _copy_of_data(person) -> object:
    """A finished copy of ``person``'s data (privacy/), as the worker leaves it."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from privacy.models import SubjectAccessExport

    now = timezone.now()
    export = SubjectAccessExport(
        person=person, status="done", created_at=now, finished_at=now, expires_at=now + timedelta(days=7)
    )
    export.file.save("copy.zip", ContentFile(b"PK\x05\x06" + bytes(18)), save=True)
    return export


def _portal_names() -> Iterator[str]:
    """The name of every URL pattern outside admin and the sign-in app."""

    def walk(patterns, prefix: str) -> Iterator[str]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(("admin/", "accounts/")):
                continue
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield pattern.name

    yield from walk(get_resolver().url_patterns, "")


def test_every_public_url_is_covered():
    names = set()
    for name in _portal_names():
        if name in STEP_PARAMETERS:
            names.update(f"{name}:{step}" for step in STEP_PARAMETERS[name])
        else:
            names.add(name)
    missing = names - set(PAGES)
    assert not missing, f"add these pages to PAGES in {__file__}: {sorted(missing)}"
    assert set(APPLICATION_STEPS) == set(wizard.STEPS) and set(FUNDING_STEPS) == set(checker.STEPS)


# --- The world the pages are attacked in ---------------------------------------------------------------


@pytest.fixture
def world(django_capture_on_commit_callbacks, settings, tmp_path) -> Iterator[World]:
    yield from attacked_world(django_capture_on_commit_callbacks, settings, tmp_path)


# --- Checks ----------------------------------------------------------------------------------------------


def _portal_tables() -> list[str]:
    ours = {"accounts", "applications", "assessment", "funding", "notifications", "programmes", "account"}
    return sorted(
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in ours and m._meta.managed and not m._meta.proxy
    )


def _snapshot(tables: list[str]) -> list:
    """Rows written so far in this transaction (PostgreSQL), or how many rows there are (SQLite)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables "
                "WHERE relname = ANY(%s) ORDER BY relname",
                [tables],
            )
        else:
            counts = [f"SELECT '{t}', count(*) FROM {quote(t)}" for t in tables]  # noqa: S608 (model tables)
            cursor.execute(" UNION ALL ".join(counts))
        return sorted(cursor.fetchall())


@dataclass
class Attack:
    world: World
    clients: dict[str | None, Client]
    tables: list[str]
    problems: list[str] = field(default_factory=list)

    def send(self, target: Target, method: str, data=None, *, raw: bytes | None = None, query: str = ""):
        """One request in a savepoint that is rolled back; refused requests must change nothing."""
        client = self.clients[target.user]
        with transaction.atomic():
            if target.answers is not None:
                Application.objects.filter(pk=self.world.draft.pk).update(answers=target.answers)
            before = _snapshot(self.tables)
            if raw is not None:
                response = client.generic(
                    "POST", target.url, raw, content_type="application/x-www-form-urlencoded"
                )
            elif method == "GET":
                response = client.get(target.url + query)
            else:
                response = client.post(target.url, data)
            what = f"{method} {target.url}{query} {data if raw is None else raw!r}"[:300]
            if response.status_code >= 500:
                self.problems.append(f"{response.status_code}: {what}")
            form = (response.context or {}).get("form") if response.status_code == 200 else None
            refused = 400 <= response.status_code < 500 or bool(form is not None and form.errors)
            if refused and _snapshot(self.tables) != before:
                self.problems.append(f"refused but wrote to the database: {what}")
            if form is not None and form.errors and method == "POST":
                html = response.content.decode()
                field_errors = any(name != "__all__" for name in form.errors)
                if "govuk-error-summary" not in html or (field_errors and "govuk-error-message" not in html):
                    self.problems.append(f"errors without the GOV.UK error summary and messages: {what}")
            transaction.set_rollback(True)
        return response


@pytest.fixture
def attack(world) -> Attack:
    clients: dict[str | None, Client] = {None: Client(raise_request_exception=False)}
    for name in ("alice", "hana", "marker"):
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(getattr(world, name))
    return Attack(world=world, clients=clients, tables=_portal_tables())


def _hostile_posts(valid: dict[str, str], fields: tuple[str, ...]) -> Iterator[dict]:
    """Each field hostile in an otherwise valid post, then every field (and unknown keys) at once."""
    names = tuple(dict.fromkeys((*valid, *fields)))
    seen: list[dict] = []
    for value in HOSTILE_VALUES:
        for post in (
            *({**valid, name: value} for name in names),
            {**dict.fromkeys(names, value), "unexpected[]": value},
        ):
            if post not in seen:
                seen.append(post)
                yield post
    yield {}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_hostile_input_never_breaks_a_page(name, world, attack):
    target = PAGES[name](world)
    page = attack.send(target, "GET")
    assert page.status_code < 400 or page.status_code == 405, f"the page itself is not reachable: {page}"
    form = (page.context or {}).get("form") if page.context else None
    fields = tuple(form.fields) if form is not None else ()
    if target.valid is not None:
        accepted = attack.send(target, "POST", target.valid)
        assert accepted.status_code in (200, 302) and not (
            accepted.context and (accepted.context.get("form") and accepted.context["form"].errors)
        ), f"the valid post is refused: {accepted.context['form'].errors if accepted.context else accepted}"
        for data in _hostile_posts(target.valid, fields):
            attack.send(target, "POST", data)
        names = (*target.valid, *fields, "unexpected")
        attack.send(target, "POST", raw="&".join(f"{n}=%FF%FE%00&{n}=%C0%80" for n in names).encode())
    for value in HOSTILE_VALUES:
        values = value if isinstance(value, list) else [value]
        pairs = [(key, v) for key in (*QUERY_NAMES, *fields) for v in values]
        attack.send(target, "GET", query="?" + urlencode(pairs))
    assert not attack.problems, "\n".join(dict.fromkeys(attack.problems))


@pytest.mark.parametrize("url_name", TOKEN_URLS)
@pytest.mark.parametrize("token", ["%00", "a%00b", "x" * 5000, "%C0%80", "%FF", "²", "..%2F..%2Fetc"])
def test_hostile_tokens_in_links_are_not_found(url_name, token, world, attack):
    url = reverse(url_name, args=["TOKEN"]).replace("TOKEN", token)
    for user in (None, "alice", "hana"):
        response = attack.send(Target(url, user), "GET")
        assert response.status_code in (302, 404), (url, user, response.status_code)
        assert attack.send(Target(url, user), "POST", {}).status_code in (302, 404, 405)
    assert not attack.problems, "\n".join(attack.problems)
