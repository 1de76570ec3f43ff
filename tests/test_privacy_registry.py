"""Every model declares its personal data (common/personal_data.py): a model with fields that look
personal and no declaration fails here, so none can be added without saying how it is exported
and erased."""

from django.apps import apps
from django.db import models

from common.personal_data import (
    REGISTRY,
    NotPersonal,
    PersonalData,
    personal_looking_fields,
    undeclared_fields,
)


def test_every_model_with_personal_looking_fields_is_declared():
    problems = []
    for model in apps.get_models():
        undeclared = undeclared_fields(model)
        if undeclared:
            where = "not declared" if model not in REGISTRY else "declared without"
            problems.append(f"{model._meta.label}: {where} {', '.join(undeclared)}")
    assert not problems, (
        "Declare these models' personal data in their app's personal_data.py "
        "(common/personal_data.py says how):\n" + "\n".join(problems)
    )


def test_the_heuristic_sees_what_a_new_model_would_bring():
    """A model the registry has never heard of, with a name, a file and a user: all three flagged."""

    class Scratch(models.Model):
        full_name = models.CharField(max_length=10)
        upload = models.FileField()
        person = models.ForeignKey("accounts.User", on_delete=models.CASCADE)
        count = models.IntegerField()

        class Meta:
            app_label = "privacy"
            managed = False

        def __str__(self) -> str:
            return self.full_name

    try:
        assert sorted(personal_looking_fields(Scratch)) == ["full_name", "person", "upload"]
        assert sorted(undeclared_fields(Scratch)) == ["full_name", "person", "upload"]
    finally:
        apps.all_models["privacy"].pop("scratch", None)
        apps.clear_cache()


def test_declared_fields_and_links_exist_and_rows_about_a_person_can_be_found(db):
    from tests.factories import UserFactory

    user = UserFactory()
    for entry in REGISTRY.values():
        assert isinstance(entry, PersonalData | NotPersonal)
        if isinstance(entry, PersonalData):
            # Every subject and mention is a query the database accepts.
            list(entry.rows_about(user)[:1])
            for _, rows in entry.rows_mentioning(user):
                list(rows[:1])
            if entry.hub_path:
                list(entry.model._default_manager.filter(**{entry.hub_path: 1})[:1])
            assert entry.rows_about(user).model is entry.model


def test_a_field_the_declaration_leaves_out_is_reported():
    from applications.models import Application

    entry = REGISTRY[Application]
    REGISTRY[Application] = PersonalData(
        model=Application, description="x", subject=entry.subject, fields=("answers",)
    )
    try:
        assert "full_name" in undeclared_fields(Application)
        assert "date_of_birth" in undeclared_fields(Application)
    finally:
        REGISTRY[Application] = entry
