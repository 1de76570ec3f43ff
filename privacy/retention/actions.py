"""What going means for each kind: deleted (row by row where another record still needs one),
anonymised (the row and its counts stay), files cleared, copies expired, people erased. Each
takes the primary keys of a batch and returns the records done and the files to delete once
the batch's transaction has committed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from common.personal_data import REGISTRY, PersonalData

from ..models import Anonymised, SubjectAccessExport

logger = logging.getLogger(__name__)


def _entry(label: str) -> PersonalData:
    from django.apps import apps

    entry = REGISTRY[apps.get_model(label)]
    assert isinstance(entry, PersonalData)
    return entry


def _delete(label: str) -> Callable[[list[int]], tuple[int, list[str]]]:
    def apply(pks: list[int]) -> tuple[int, list[str]]:
        from django.apps import apps

        model = apps.get_model(label)
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        files: list[str] = []

        def delete(rows: models.QuerySet) -> list[str]:
            named = [name for values in rows.values_list(*names) for name in values if name] if names else []
            with transaction.atomic():  # a savepoint: a refusal leaves the batch's transaction usable
                rows.delete()
            return named

        try:
            return len(pks), delete(model._default_manager.filter(pk__in=pks))
        except ProtectedError:
            pass
        done = 0
        for pk in pks:  # row by row: one another record still needs is kept, not the whole batch
            try:
                files += delete(model._default_manager.filter(pk=pk))
                done += 1
            except ProtectedError:
                logger.info("Retention kept %s %s: another record refers to it", label, pk)
        return done, files

    return apply


def _mark_anonymised(label: str, pks: list[int]) -> None:
    now = timezone.now()
    Anonymised.objects.bulk_create(
        [Anonymised(model=label, object_id=pk, at=now) for pk in pks], ignore_conflicts=True
    )


def _anonymise_applications(pks: list[int]) -> tuple[int, list[str]]:
    from ..services import anonymise_rows

    application = _entry("applications.Application")
    done, files = anonymise_rows(application, application.model.objects.filter(pk__in=pks))
    for label in ("applications.Transition", "applications.Endorsement", "applications.Employment"):
        entry = _entry(label)
        _, more = anonymise_rows(entry, entry.model.objects.filter(application__in=pks))
        files += more
    _mark_anonymised("applications.Application", pks)
    return done, files


def _anonymise_endorsements(pks: list[int]) -> tuple[int, list[str]]:
    from ..services import anonymise_rows

    entry = _entry("applications.Endorsement")
    done, files = anonymise_rows(entry, entry.model.objects.filter(pk__in=pks))
    _mark_anonymised("applications.Endorsement", pks)
    return done, files


def _delete_attendance(pks: list[int]) -> tuple[int, list[str]]:
    from engagement.models import Attendance

    Attendance.history.model.objects.filter(id__in=pks).delete()
    done, _ = Attendance.objects.filter(pk__in=pks).delete()
    return len(pks) if done else 0, []


def _clear_import_files(pks: list[int]) -> tuple[int, list[str]]:
    from funding.models import ImportRun

    files = list(ImportRun.objects.filter(pk__in=pks).exclude(file="").values_list("file", flat=True))
    ImportRun.objects.filter(pk__in=pks).update(file="")
    return len(pks), files


def _expire_exports(pks: list[int]) -> tuple[int, list[str]]:
    rows = SubjectAccessExport.objects.filter(pk__in=pks)
    files = list(rows.exclude(file="").values_list("file", flat=True))
    rows.update(file="", status=SubjectAccessExport.Status.EXPIRED)
    return len(pks), files


def _erase_people(pks: list[int]) -> tuple[int, list[str]]:
    from accounts.models import User

    from ..services import erase_person

    for person in User.objects.filter(pk__in=pks):
        erase_person(person=person, by=None, cause="retention")  # its own transaction; files after
    return len(pks), []
