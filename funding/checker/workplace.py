"""The workplace question: a search of open establishments by name, URN, UKPRN or postcode,
a list to choose from when several match, and the name and postcode of a workplace not listed."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Q

from ..models import Institution

NOT_LISTED = "My workplace is not listed"


class WorkplaceForm(forms.Form):
    """Search by name, URN, UKPRN or postcode; when more than one place matches, choose from a list.

    A search that finds several places shows them to choose from, without an error: the form is
    then ``incomplete`` (nothing to save yet). Only choosing nothing from a list shown for the
    same search is an error. The search runs only on a search term that passed validation
    (never on raw input)."""

    workplace = forms.CharField(
        max_length=100,
        label="What is the name, URN or postcode of your workplace?",
        help_text="For example Northfield Academy, 137001 or ME14 2LR.",
        error_messages={
            "required": "Enter the name, URN or postcode of your workplace",
            "max_length": "Name, URN or postcode must be 100 characters or fewer",
            "null_characters_not_allowed": "Enter the name, URN or postcode using letters and numbers",
        },
    )
    urn = forms.TypedChoiceField(
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
        label="Choose your workplace",
        error_messages={"invalid_choice": "Select your workplace from the list"},
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.data = self.data.copy()
        self.matches: list[Institution] = []
        self.incomplete = False
        # The search the list on the page was made from (sent back with the choice, only ever
        # compared with the search): a changed search shows its own list.
        self.listed_for = ""

    def clean_workplace(self) -> str:
        query = self.cleaned_data["workplace"]
        self.matches = find_institutions(query)
        if not self.matches:
            raise forms.ValidationError(
                "No open school or college matches that. Check the name, URN or postcode and search "
                f"again, or choose ‘{NOT_LISTED}’"
            )
        if len(self.matches) > 1:  # the list to choose from (validated next, with the urn field)
            self.fields["urn"].choices = [
                (m.urn, f"{m.name}, {m.postcode} (URN {m.urn})") for m in self.matches
            ]
            self.fields["urn"].help_text = (
                f"{len(self.matches)} open schools and colleges match your search."
                if len(self.matches) < SEARCH_LIMIT
                else f"These are the first {SEARCH_LIMIT} matches: search with more of the name, "
                "the postcode or the URN to find yours."
            )
        return query

    def clean(self):
        data = super().clean()
        query = data.get("workplace")
        listed_for = self.data.get("listed_for")
        # Choosing from the list shown for this search (a client that sends no list marker but a
        # choice is choosing too); a changed search shows its own list.
        choosing = len(self.matches) > 1 and (
            query == listed_for if listed_for else bool(self.data.get("urn"))
        )
        if not choosing:
            self.errors.pop("urn", None)  # no list was shown for this search, so nothing was chosen
            data.pop("urn", None)
        if len(self.matches) > 1:
            self.listed_for = query
        if self.errors:
            return data
        if len(self.matches) == 1:
            data["urn"] = self.matches[0].urn
        elif not choosing:
            self.incomplete = True  # a new list: show it, nothing chosen yet
            self.data.pop("urn", None)
        elif not data.get("urn"):
            self.add_error("urn", f"Select your workplace, or choose ‘{NOT_LISTED}’ if it is not in the list")
        return data


UK_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}")


class UnlistedWorkplaceForm(forms.Form):
    """The workplace of someone who could not find it in the search: staff check it by hand."""

    workplace_name = forms.CharField(
        max_length=200,
        label="Name of your workplace",
        error_messages={
            "required": "Enter the name of your workplace",
            "max_length": "Name must be 200 characters or fewer",
            "null_characters_not_allowed": "Enter the name using letters, numbers and punctuation",
        },
    )
    workplace_postcode = forms.CharField(
        max_length=10,
        label="Postcode",
        help_text="For example ME14 2LR.",
        error_messages={
            "required": "Enter your workplace's postcode",
            "max_length": "Enter a real postcode, like ME14 2LR",
            "null_characters_not_allowed": "Enter a real postcode, like ME14 2LR",
        },
    )

    def clean_workplace_name(self) -> str:
        name = " ".join(self.cleaned_data["workplace_name"].split())
        if not name:
            raise forms.ValidationError("Enter the name of your workplace")
        return name

    def clean_workplace_postcode(self) -> str:
        compact = re.sub(r"\s", "", self.cleaned_data["workplace_postcode"]).upper()
        if not UK_POSTCODE.fullmatch(compact):
            raise forms.ValidationError("Enter a real postcode, like ME14 2LR")
        return f"{compact[:-3]} {compact[-3:]}"

    def clean(self):
        data = super().clean()
        if not self.errors:
            data["workplace_not_listed"] = True
        return data


def workplace_form_class(step: str, not_listed: bool) -> type[forms.Form] | None:
    """The form of the workplace step when the person said their workplace is not listed."""
    return UnlistedWorkplaceForm if step == "workplace" and not_listed else None


# URNs and UKPRNs are 6 and 8 digits; a longer number is no establishment's (nor fits the column).
LONGEST_NUMBER = 9


SEARCH_LIMIT = 20


def find_institutions(query: str, limit: int = SEARCH_LIMIT) -> list[Institution]:
    """Open establishments matching a validated search term (no NUL bytes; digits in any script)."""
    query = query.strip()
    open_ones = Institution.objects.exclude(status="Closed")
    if query.isdecimal():  # not str.isdigit(): '²' is a digit that int() refuses
        if len(query) > LONGEST_NUMBER:
            return []
        number = int(query)
        return list(open_ones.filter(Q(urn=number) | Q(ukprn=number))[:limit])
    compact = re.sub(r"\s", "", query).upper()
    return list(
        open_ones.filter(
            Q(name__icontains=query) | Q(postcode__iexact=query) | Q(postcode__iexact=compact)
        ).order_by("name")[:limit]
    )
