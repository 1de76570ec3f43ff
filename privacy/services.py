"""Subject access exports and erasure, driven by the registry (common/personal_data.py)."""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from common.personal_data import (
    ERASE_ANONYMISE,
    ERASE_DELETE,
    ERASE_KEEP,
    PersonalData,
    erased_value,
    export_fields,
    personal_entries,
)

from .models import AccessLogEntry, ErasureRecord, RetentionRule, SubjectAccessExport

logger = logging.getLogger(__name__)


# --- Whose hub ------------------------------------------------------------------------------------


def person_hub_ids(person: User) -> set[int]:
    """The hubs holding records about ``person``: where they applied or are enrolled."""
    from applications.models import Application
    from programmes.models import Participant

    hubs = set(Participant.objects.filter(user=person).values_list("course__cohort__hub", flat=True))
    hubs |= set(Application.objects.filter(user=person).values_list("cohort__hub", flat=True))
    return hubs


def administered_hub_ids(user: User) -> set[int]:
    from programmes.models import HubMembership

    return set(
        HubMembership.objects.filter(user=user, role=HubMembership.Role.HUB_ADMIN).values_list(
            "hub_id", flat=True
        )
    )


def people_of_hubs(hub_ids: set[int]) -> models.QuerySet[User]:
    """Applicants and participants of these hubs: the people their administrators may export."""
    return User.objects.filter(
        Q(enrolments__course__cohort__hub__in=hub_ids) | Q(applications__cohort__hub__in=hub_ids)
    ).distinct()


# --- Access log -----------------------------------------------------------------------------------


def access_record(
    *,
    by: User,
    action: str,
    what: str,
    person: User | None = None,
    hub_id: int | None = None,
    rows: int = 1,
) -> AccessLogEntry:
    return AccessLogEntry.objects.create(
        at=timezone.now(), by=by, action=action, what=what[:200], person=person, hub_id=hub_id, rows=rows
    )


# --- Subject access export ------------------------------------------------------------------------


def export_request(*, person: User, requested_by: User, hub_id: int | None = None) -> SubjectAccessExport:
    """Record the request and queue the worker that makes the copy (after the commit)."""
    from .tasks import build_subject_access_export

    export = SubjectAccessExport.objects.create(
        person=person, requested_by=requested_by, hub_id=hub_id, created_at=timezone.now()
    )
    transaction.on_commit(lambda: build_subject_access_export.delay(export.pk))
    return export


def export_lifetime(now: datetime) -> datetime:
    """When a copy made now expires: the retention schedule's period for copies."""
    from .retention import before

    rule = RetentionRule.objects.filter(kind="subject_access_exports", hub=None).first()
    period, unit = (rule.period, rule.unit) if rule else (7, "days")
    return now + (now - before(now, period, unit))


def _in_hub(entry: PersonalData, rows: models.QuerySet, hub_id: int | None) -> models.QuerySet:
    """A hub's copy holds its own rows and the account; kinds that are no hub's are left out."""
    if hub_id is None or entry.model is User:
        return rows
    if entry.hub_path is None:
        return rows.none()
    return rows.filter(**{entry.hub_path: hub_id})


def _export_section(entry: PersonalData, person: User, hub_id: int | None = None) -> dict[str, Any]:
    rows_about = _in_hub(entry, entry.rows_about(person), hub_id).order_by("pk")
    about = [entry.export_row(row) | {"id": row.pk} for row in rows_about]
    files = []
    for row in rows_about:
        for name in entry.file_fields():
            stored = getattr(row, name)
            if stored and stored.name:
                files.append(stored.name)
    mentioning = []
    for mention, rows in entry.rows_mentioning(person):
        for row in _in_hub(entry, rows, hub_id).order_by("pk"):
            mentioning.append({"id": row.pk} | export_fields(row, mention.fields))
    return {
        "description": entry.description,
        "about_you": about,
        "mentioning_you": mentioning,
        "_files": files,
    }


def export_build(export_id: int) -> SubjectAccessExport:
    """Make the ZIP: one JSON file per kind of record, and the uploaded files. Progress is one
    part per kind of record. Running it again starts afresh (a worker that died left no file)."""
    export = SubjectAccessExport.objects.select_related("person", "hub").get(pk=export_id)
    if export.status in (SubjectAccessExport.Status.DONE, SubjectAccessExport.Status.EXPIRED):
        return export
    entries = [e for e in personal_entries() if e.subject is not None or e.mentions]
    SubjectAccessExport.objects.filter(pk=export.pk).update(
        status=SubjectAccessExport.Status.RUNNING, parts_total=len(entries), parts_done=0
    )
    person = export.person
    records = files = 0
    try:
        with tempfile.TemporaryFile() as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("README.txt", _readme(person, export.hub))
                for entry in entries:
                    section = _export_section(entry, person, export.hub_id)
                    stored_files = section.pop("_files")
                    if section["about_you"] or section["mentioning_you"]:
                        records += len(section["about_you"]) + len(section["mentioning_you"])
                        archive.writestr(
                            f"records/{entry.label}.json", json.dumps(section, indent=2, default=str)
                        )
                    for name in stored_files:
                        if default_storage.exists(name):
                            with default_storage.open(name, "rb") as stored:
                                archive.writestr(f"files/{name}", stored.read())
                            files += 1
                    SubjectAccessExport.objects.filter(pk=export.pk).update(parts_done=F("parts_done") + 1)
            handle.seek(0)
            if export.file:
                export.file.delete(save=False)
            export.file.save(f"{secrets.token_urlsafe(24)}.zip", File(handle), save=False)
    except Exception:
        logger.exception("Subject access export %s failed", export.pk)
        SubjectAccessExport.objects.filter(pk=export.pk).update(
            status=SubjectAccessExport.Status.FAILED,
            failure="The copy could not be made. Ask for a new one; if it fails again, tell support.",
            finished_at=timezone.now(),
        )
        raise
    now = timezone.now()
    finished = SubjectAccessExport.objects.filter(pk=export.pk).update(
        status=SubjectAccessExport.Status.DONE,
        file=export.file.name,
        records=records,
        files=files,
        finished_at=now,
        expires_at=export_lifetime(now),
    )
    if not finished:  # the person was erased meanwhile (their copies with them): no copy outlives it
        export.file.delete(save=False)
        return export
    export.refresh_from_db()
    return export


def _readme(person: User, hub=None) -> str:
    scope = (
        f"It holds the records of {hub.name} (the hub that asked for it) and the account.\n\n"
        if hub is not None
        else "\n"
    )
    return (
        "A copy of the personal data the NPQ Portal holds about the account "
        f"{person.email}, made on {timezone.localtime():%d %B %Y at %H:%M}.\n"
        + scope
        + "records/ holds one JSON file per kind of record: 'about_you' lists the records about you, "
        "'mentioning_you' the records of other people that name you (for example as their "
        "headteacher or mentor), with only the fields that do.\n"
        "files/ holds the files you uploaded.\n"
        "Secrets (password hashes, sign-in and link tokens, two-factor keys) are never included.\n"
    )


def may_download(export: SubjectAccessExport, user: User, *, now: datetime | None = None) -> bool:
    """The person themselves, a superuser, or an administrator of the hub that asked (while the
    person still has records there); only a finished copy that has not expired."""
    now = now or timezone.now()
    if export.status != SubjectAccessExport.Status.DONE or not export.file:
        return False
    if export.expires_at is None or export.expires_at <= now:
        return False
    if not user.is_authenticated or not user.is_active:
        return False
    if export.person_id == user.pk:
        return True
    # Outside /admin/, so the two-factor middleware does not guard it: someone else's copy is
    # for staff who signed in with their authenticator app only.
    from accounts.two_factor import two_factor_enabled

    if not two_factor_enabled(user):
        return False
    if user.is_superuser:
        return True
    return (
        export.hub_id is not None
        and export.hub_id in administered_hub_ids(user)
        and export.hub_id in person_hub_ids(export.person)
    )


# --- Erasure --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanLine:
    description: str
    about: int
    mentioning: int
    action: str
    fields: tuple[str, ...]
    keep: str


ACTION_WORDS = {
    ERASE_DELETE: "Deleted",
    ERASE_ANONYMISE: "Personal details removed, the record kept",
    ERASE_KEEP: "Kept as it is (nothing identifying once the account is anonymised)",
}


def erasure_plan(person: User) -> list[PlanLine]:
    """What erasing ``person`` would do, kind by kind, for the confirmation page."""
    lines = []
    for entry in personal_entries():
        about = entry.rows_about(person).count()
        mentioning = sum(rows.count() for _, rows in entry.rows_mentioning(person))
        if not about and not mentioning:
            continue
        fields = tuple(
            str(entry.model._meta.get_field(name).verbose_name)
            for name in entry.fields
            if not entry.model._meta.get_field(name).is_relation
        )
        lines.append(
            PlanLine(entry.description, about, mentioning, ACTION_WORDS[entry.erase], fields, entry.keep)
        )
    return lines


def anonymise_rows(
    entry: PersonalData, rows: models.QuerySet, fields: tuple[str, ...] | None = None
) -> tuple[int, list[str]]:
    """Replace the personal fields of ``rows`` (one UPDATE per row, no signals, no history rows
    of the erased values). Returns the count and the stored files to delete after the commit."""
    full = fields is None
    fields = entry.fields if fields is None else fields
    model_fields = [entry.model._meta.get_field(name) for name in fields]
    files: list[str] = []
    count = 0
    for row in rows.order_by("pk"):
        values: dict[str, Any] = {}
        for f in model_fields:
            if isinstance(f, models.FileField):
                stored = getattr(row, f.attname)
                if stored and stored.name:
                    files.append(stored.name)
            values[f.attname] = erased_value(row, f)
        if full:
            for name, value in entry.replacements.items():
                values[name] = value(row) if callable(value) else value
        entry.model._default_manager.filter(pk=row.pk).update(**values)
        count += 1
    return count, files


def delete_rows(entry: PersonalData, rows: models.QuerySet) -> tuple[int, list[str]]:
    files: list[str] = []
    names = [f.attname for f in entry.model._meta.concrete_fields if isinstance(f, models.FileField)]
    if names:
        for values in rows.values_list(*names):
            files.extend(name for name in values if name)
    count = rows.count()
    rows.delete()
    return count, files


def delete_files_after_commit(names: list[str]) -> None:
    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                logger.warning("Could not delete stored file %s", name)

    if names:
        transaction.on_commit(delete)


def _anonymise_log_entries(model: type[models.Model], pks: list[int]) -> None:
    """Admin's change log names the rows it changed (e.g. an application by its applicant)."""
    if not pks:
        return
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in pks]).update(
        object_repr="Erased", change_message=""
    )


@transaction.atomic
def erase_person(*, person: User, by: User | None, cause: str = "request") -> ErasureRecord:
    """Anonymise everything about ``person`` in one transaction; delete their files once it has
    committed. The record says how many of each kind went, never what they were."""
    person = User.objects.select_for_update().get(pk=person.pk)
    counts: dict[str, dict[str, int]] = {}
    files: list[str] = []
    entries = sorted(personal_entries(), key=lambda e: e.model is User)  # the account last
    for entry in entries:
        tally = {"anonymised": 0, "deleted": 0, "kept": 0, "naming_them": 0}
        # Rows mentioning the person (their name as someone's endorser): only those fields.
        for mention, rows in entry.rows_mentioning(person):
            pks = list(rows.values_list("pk", flat=True))
            done, gone = anonymise_rows(entry, rows, mention.fields)
            tally["naming_them"] += done
            files += gone
            _anonymise_log_entries(entry.model, pks)
        rows = entry.rows_about(person)
        pks = list(rows.values_list("pk", flat=True))
        if entry.erase == ERASE_DELETE:
            done, gone = delete_rows(entry, rows)
            tally["deleted"] += done
        elif entry.erase == ERASE_ANONYMISE:
            done, gone = anonymise_rows(entry, rows)
            tally["anonymised"] += done
        else:
            done, gone = len(pks), []
            tally["kept"] += done
        files += gone
        _anonymise_log_entries(entry.model, pks)
        if any(tally.values()):
            counts[entry.description] = tally
    record = ErasureRecord.objects.create(
        account_id=person.pk,
        erased_by=by,
        erased_at=timezone.now(),
        cause=cause,
        counts=counts,
        files_deleted=len(files),
    )
    delete_files_after_commit(files)
    return record
