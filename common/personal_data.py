"""Every app declares its personal data here, in one place per app (``<app>/personal_data.py``).

A declaration says which rows are about a person (``subject``), which of their fields are
personal (exported, then anonymised on erasure), which rows merely *mention* a person in a few
fields (an endorser's address on someone else's application), which foreign keys name a user
who acted (a marker, whoever recorded a mark: kept, pointing at the account, which erasure
anonymises), what erasure must keep and why, and how a row is exported when the default
(every field but secrets) will not do.

A model whose fields look personal but are not (a school's name) is declared ``not_personal``
with the reason. tests/test_privacy_registry.py walks every installed model and fails for one
with personal-looking fields that is neither, so a new model cannot arrive without saying how it
is exported and erased.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

ERASE_ANONYMISE = "anonymise"  # personal fields replaced; the row (and its counts) stays
ERASE_DELETE = "delete"  # the row goes (files with it)
ERASE_KEEP = "keep"  # the row stays as it is: it holds nothing identifying once the account is anonymised

# Never exported, whoever asks: they would let the holder of the file act as the person.
SECRET_FIELDS = frozenset({"password", "token_hash", "token", "key", "data", "session_data"})

# Field names (or a part of one, split at "_") that suggest personal data.
PERSONAL_WORDS = frozenset(
    {
        "email",
        "name",
        "dob",
        "birth",
        "trn",
        "phone",
        "telephone",
        "mobile",
        "address",
        "postcode",
        "ip",
        "notes",
        "note",
        "comment",
        "comments",
        "feedback",
        "answers",
        "facts",
    }
)
# In a free-text field these words suggest personal content too (a reason for an extension).
PERSONAL_TEXT_WORDS = frozenset({"reason", "text", "body", "message"})


@dataclass(frozen=True)
class Mention:
    """Rows of another person that name this one in a few fields (an endorser's address)."""

    match: Callable[[Any], Q]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class PersonalData:
    model: type[models.Model]
    description: str
    subject: Callable[[Any], Q] | None = None
    fields: tuple[str, ...] = ()
    erase: str = ERASE_ANONYMISE
    mentions: tuple[Mention, ...] = ()
    actors: tuple[str, ...] = ()
    keep: str = ""
    not_personal: dict[str, str] = field(default_factory=dict)
    # Values set on full anonymisation besides the personal fields' (a value, or one from the row).
    replacements: dict[str, Any] = field(default_factory=dict)
    export: Callable[[models.Model], dict[str, Any]] | None = None
    # The path from a row to its hub: a copy asked for by a hub's staff holds only that hub's rows
    # (and the account); kinds with no hub are left out of it.
    hub_path: str | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label

    def rows_about(self, user) -> models.QuerySet:
        if self.subject is None:
            return self.model._default_manager.none()
        return self.model._default_manager.filter(self.subject(user))

    def rows_mentioning(self, user) -> list[tuple[Mention, models.QuerySet]]:
        about = self.rows_about(user).values("pk")
        return [
            (mention, self.model._default_manager.filter(mention.match(user)).exclude(pk__in=about))
            for mention in self.mentions
        ]

    def file_fields(self) -> list[str]:
        return [
            f.name
            for f in self.model._meta.concrete_fields
            if isinstance(f, models.FileField) and f.name in self.fields
        ]

    def export_row(self, row: models.Model) -> dict[str, Any]:
        if self.export is not None:
            return self.export(row)
        return export_fields(row)


@dataclass(frozen=True)
class NotPersonal:
    model: type[models.Model]
    why: str


REGISTRY: dict[type[models.Model], PersonalData | NotPersonal] = {}


def register(model: type[models.Model], description: str, **kwargs: Any) -> PersonalData:
    """Declare ``model``'s personal data (see the module's docstring for the arguments)."""
    entry = PersonalData(model=model, description=description, **kwargs)
    unknown = set(entry.fields) | set(entry.actors) | set(entry.not_personal)
    for mention in entry.mentions:
        unknown |= set(mention.fields)
    names = {f.name for f in model._meta.get_fields()}
    missing = unknown - names
    if missing:
        raise ValueError(f"{model._meta.label} has no field {sorted(missing)[0]!r}")
    if entry.erase not in (ERASE_ANONYMISE, ERASE_DELETE, ERASE_KEEP):
        raise ValueError(f"{model._meta.label}: erase must be anonymise, delete or keep")
    REGISTRY[model] = entry
    return entry


def not_personal(model: type[models.Model], why: str) -> None:
    """Declare that ``model`` holds no personal data, although some field names suggest it."""
    REGISTRY[model] = NotPersonal(model=model, why=why)


def personal_entries() -> list[PersonalData]:
    return [entry for entry in REGISTRY.values() if isinstance(entry, PersonalData)]


def entry_for(model: type[models.Model]) -> PersonalData | NotPersonal | None:
    return REGISTRY.get(model)


def is_about_a_person(model: type[models.Model]) -> bool:
    entry = REGISTRY.get(model)
    return isinstance(entry, PersonalData) and entry.subject is not None


# --- The heuristic the registry test applies ------------------------------------------------------


def personal_looking_fields(model: type[models.Model]) -> list[str]:
    """Fields of ``model`` that look personal: by name, files, addresses, links to a user or to a
    row about a person."""
    found = []
    for f in model._meta.get_fields():
        if f.auto_created and not f.concrete:
            continue  # reverse relations are the other model's fields
        if f.is_relation and f.related_model is not None:
            target = f.related_model
            if target._meta.label == settings.AUTH_USER_MODEL or is_about_a_person(target):
                found.append(f.name)
            continue
        words = set(f.name.split("_")) | {f.name}
        looks_personal = (
            isinstance(f, models.FileField | models.GenericIPAddressField)
            or words & PERSONAL_WORDS
            or (isinstance(f, models.TextField) and words & PERSONAL_TEXT_WORDS)
        )
        if looks_personal:
            found.append(f.name)
    return found


def undeclared_fields(model: type[models.Model]) -> list[str]:
    """Personal-looking fields of ``model`` its declaration does not account for."""
    entry = REGISTRY.get(model)
    flagged = personal_looking_fields(model)
    if isinstance(entry, NotPersonal):
        return []
    if entry is None:
        return flagged
    covered = set(entry.fields) | set(entry.actors) | set(entry.not_personal)
    for mention in entry.mentions:
        covered |= set(mention.fields)
    undeclared = []
    for name in flagged:
        f = model._meta.get_field(name)
        if name in covered:
            continue
        if f.is_relation and entry.subject is not None and not f.many_to_many:
            continue  # the link that makes the row about the person
        undeclared.append(name)
    return undeclared


# --- Export and anonymisation helpers -------------------------------------------------------------


def plain(value: Any) -> Any:
    """A JSON-friendly value."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    return value


def export_fields(row: models.Model, names: Iterable[str] | None = None) -> dict[str, Any]:
    """Every concrete field but secrets, choices in words beside their code."""
    data: dict[str, Any] = {}
    for f in row._meta.concrete_fields:
        if names is not None and f.name not in names:
            continue
        if f.name in SECRET_FIELDS:
            continue
        key = f.attname
        value = getattr(row, key)
        data[key] = plain(value)
        if f.choices and value not in (None, ""):
            data[f"{f.name}_in_words"] = str(getattr(row, f"get_{f.name}_display")())
    return data


# Answers and facts keep what counts need (the setting, the course, the funding route); keys
# naming or identifying the person go.
IDENTIFYING_KEYS = PERSONAL_WORDS | {
    "role",
    "workplace",
    "urn",
    "workplace_name",
    "consent",
    "teacher_reference_number",  # DfE's name for the TRN
    "national_insurance_number",
}


def scrub_mapping(value: Any) -> Any:
    if not isinstance(value, dict):
        return {}
    kept = {}
    for key, item in value.items():
        words = set(str(key).split("_")) | {str(key)}
        if words & IDENTIFYING_KEYS:
            continue
        kept[key] = item
    return kept


def erased_value(row: models.Model, f: models.Field) -> Any:
    """The value a personal field takes when its row is anonymised."""
    if isinstance(f, models.EmailField):
        return f"erased-{row._meta.model_name}-{row.pk}@erased.invalid"
    if isinstance(f, models.JSONField):
        return scrub_mapping(getattr(row, f.attname))
    if isinstance(f, models.FileField):
        return ""
    if isinstance(f, models.CharField | models.TextField):
        return "" if f.blank else "Erased"
    if f.null:
        return None
    if isinstance(f, models.DateField):
        return dt.date(1900, 1, 1)
    raise ValueError(f"No erased value for {row._meta.label}.{f.name}: give one in replacements")
