"""Whose records a member of staff may act on: the hubs they administer, and a person found by
email among the people they may see."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User

from ..services import administered_hub_ids


def hub_ids(request: HttpRequest) -> set[int]:
    """The hubs the viewer administers, read once per request (the admin's sidebar asks every
    model's permissions on every page)."""
    if not hasattr(request, "_privacy_hub_ids"):
        user = request.user
        active = user.is_active and user.is_staff
        request._privacy_hub_ids = administered_hub_ids(user) if active else set()
    return request._privacy_hub_ids


def is_hub_admin(request: HttpRequest) -> bool:
    return bool(hub_ids(request))


class PersonForm(forms.Form):
    email = forms.EmailField(
        label="Email address of the person",
        help_text="The address they sign in with.",
        max_length=254,
    )

    def __init__(self, *args, people: QuerySet[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.people = people

    def clean_email(self) -> User:
        email = self.cleaned_data["email"]
        person = self.people.filter(email__iexact=email).first()
        if person is None:
            raise forms.ValidationError(
                "No one with this email address has applied to or is enrolled with your hub."
            )
        return person
