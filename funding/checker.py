"""The public "check your funding" questions: one question per page, the route as data.

``next_step(answers)`` says which question comes next (or ``result``); ``facts_from_answers``
turns the answers into facts for ``funding.eligibility.decide``. Both are plain functions,
tested without HTTP; the views only show forms and store answers in the session.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Q

from common import journey

from .eligibility import SCHOOL_NURSERIES, SCHOOL_SETTINGS
from .models import Institution

YES_NO = [("yes", "Yes"), ("no", "No")]


def _radios(choices, label: str, hint: str = "", **kwargs) -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=choices,
        widget=forms.RadioSelect,
        label=label,
        help_text=hint,
        error_messages={"required": kwargs.pop("required_message")},
        **kwargs,
    )


class CourseForm(forms.Form):
    course = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="Which NPQ do you want to do?",
        error_messages={"required": "Select the NPQ you want to do"},
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from programmes.models import Programme

        self.fields["course"].choices = [(p.code, p.name) for p in Programme.objects.all()]


class InEnglandForm(forms.Form):
    in_england = _radios(
        YES_NO, "Do you work in England?", required_message="Select yes if you work in England"
    )


class WorkSettingForm(forms.Form):
    work_setting = _radios(
        [
            ("school", "A school"),
            ("academy_trust", "An academy trust"),
            ("16_to_19", "A 16 to 19 educational setting"),
            ("early_years", "An early years setting or as a childminder"),
            (
                "another_setting",
                "Another setting, such as a hospital school, a young offender institution or a local authority",
            ),
            ("other", "None of these"),
        ],
        "Where do you work?",
        required_message="Select where you work",
    )


class KindOfNurseryForm(forms.Form):
    kind_of_nursery = _radios(
        [
            ("local_authority_maintained_nursery", "A local authority-maintained nursery school"),
            ("preschool_class_as_part_of_school", "A pre-school class or nursery that is part of a school"),
            ("private_nursery", "A private nursery"),
            ("childminder", "As a childminder"),
            ("another_early_years_setting", "Another early years setting"),
        ],
        "What kind of early years setting do you work in?",
        required_message="Select the kind of early years setting you work in",
    )


class OfstedForm(forms.Form):
    ofsted_urn = forms.CharField(
        label="What is your Ofsted unique reference number (URN)?",
        help_text="It starts with EY and is followed by 6 numbers, for example EY123456.",
        error_messages={"required": "Enter your Ofsted URN"},
    )

    def clean_ofsted_urn(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data["ofsted_urn"]).upper()
        if not re.fullmatch(r"EY\d{6}", value):
            raise forms.ValidationError(
                "Enter an Ofsted URN that starts with EY and has 6 numbers, like EY123456"
            )
        return value


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


class EmploymentForm(forms.Form):
    employment_type = _radios(
        [
            ("hospital_school", "In a hospital school"),
            ("young_offender_institution", "In a young offender institution"),
            ("local_authority_virtual_school", "In a local authority virtual school"),
            ("local_authority_supply_teacher", "As a supply teacher employed by a local authority"),
            (
                "lead_mentor_for_accredited_itt_provider",
                "As a lead mentor for an accredited initial teacher training provider",
            ),
            ("other", "Something else"),
        ],
        "How are you employed?",
        required_message="Select how you are employed",
    )


class ReturnToTeachingForm(forms.Form):
    """Asked of someone in none of the settings: DfE's hub review of returners depends on it."""

    referred_by_return_to_teaching_adviser = _radios(
        YES_NO,
        "Has a return-to-teaching adviser referred you?",
        hint="Return-to-teaching advisers help qualified teachers who want to come back to teaching.",
        required_message="Select yes if a return-to-teaching adviser referred you",
    )


class IttProviderForm(forms.Form):
    itt_provider = forms.ModelChoiceField(
        queryset=None,
        label="Which initial teacher training provider are you a lead mentor for?",
        error_messages={"required": "Select your initial teacher training provider"},
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from .models import IttProvider

        self.fields["itt_provider"].queryset = IttProvider.objects.all()

    def clean(self):
        data = super().clean()
        if data.get("itt_provider") is not None:
            data["itt_provider"] = data["itt_provider"].pk
        return data


class HeadteacherForm(forms.Form):
    headteacher = _radios(
        YES_NO, "Are you a headteacher?", required_message="Select yes if you are a headteacher"
    )
    years_as_headteacher = forms.IntegerField(
        min_value=0,
        max_value=60,
        required=False,
        label="How many years have you been a headteacher?",
        help_text="Count this year as a whole year. Leave empty if you are not a headteacher.",
        error_messages={"min_value": "Years must be 0 or more", "invalid": "Enter a number of years, like 2"},
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("headteacher") == "yes"
            and data.get("years_as_headteacher") is None
            and "years_as_headteacher" not in self.errors
        ):
            self.add_error("years_as_headteacher", "Enter how many years you have been a headteacher")
        return data


class NpqhStatusForm(forms.Form):
    npqh_status = _radios(
        [
            ("completed", "I have completed it"),
            ("in_progress", "I am doing it now"),
            ("will_start", "I am about to start it"),
            ("none", "I have not done it and am not about to start it"),
        ],
        "Have you done the NPQ in Headship (NPQH)?",
        required_message="Select whether you have done the NPQ in Headship",
    )
    withdrew_from_ehco_before = _radios(
        YES_NO,
        "Have you withdrawn from the Early Headship Coaching Offer before?",
        required_message="Select yes if you have withdrawn from the Early Headship Coaching Offer before",
    )


# step name -> (form class, page title)
STEPS: dict[str, tuple[type[forms.Form], str]] = {
    "course": (CourseForm, "Which NPQ do you want to do?"),
    "in-england": (InEnglandForm, "Do you work in England?"),
    "work-setting": (WorkSettingForm, "Where do you work?"),
    "kind-of-nursery": (KindOfNurseryForm, "What kind of early years setting do you work in?"),
    "ofsted": (OfstedForm, "What is your Ofsted URN?"),
    "workplace": (WorkplaceForm, "Find your workplace"),
    "employment": (EmploymentForm, "How are you employed?"),
    "itt-provider": (IttProviderForm, "Your initial teacher training provider"),
    "return-to-teaching": (ReturnToTeachingForm, "Has a return-to-teaching adviser referred you?"),
    "headteacher": (HeadteacherForm, "Are you a headteacher?"),
    "npqh": (NpqhStatusForm, "The NPQ in Headship"),
}


def workplace_step(answers: dict[str, Any]) -> str | None:
    """The next question about where the person works, or None once that is answered.
    Shared by the funding checker and the application form."""
    if "work_setting" not in answers:
        return "work-setting"
    setting = answers["work_setting"]
    if setting == "early_years":
        if "kind_of_nursery" not in answers:
            return "kind-of-nursery"
        if answers["kind_of_nursery"] in SCHOOL_NURSERIES:
            setting = "school"
        elif "ofsted_urn" not in answers:
            return "ofsted"
    if setting in SCHOOL_SETTINGS and "urn" not in answers and not answers.get("workplace_not_listed"):
        return "workplace"
    if setting == "another_setting":
        if "employment_type" not in answers:
            return "employment"
        if (
            answers["employment_type"] == "lead_mentor_for_accredited_itt_provider"
            and "itt_provider" not in answers
        ):
            return "itt-provider"
    if setting == "other" and "referred_by_return_to_teaching_adviser" not in answers:
        return "return-to-teaching"
    return None


def next_step(answers: dict[str, Any]) -> str:
    """The first question not yet answered on this applicant's route, or ``result``."""
    if "course" not in answers:
        return "course"
    if "in_england" not in answers:
        return "in-england"
    if answers["in_england"] == "no":
        return "result"
    if step := workplace_step(answers):
        return step
    if answers["course"] == "EHCO":
        if "headteacher" not in answers:
            return "headteacher"
        if "npqh_status" not in answers:
            return "npqh"
    return "result"


# The answers each step saves. The workplace step saves either a chosen establishment or, for
# one not listed, its name and postcode.
WORKPLACE_FIELDS = ("workplace", "urn", "workplace_not_listed", "workplace_name", "workplace_postcode")
STEP_FIELDS = {name: tuple(form.base_fields) for name, (form, _) in STEPS.items()}
STEP_FIELDS["workplace"] = WORKPLACE_FIELDS


def route(answers: dict[str, Any]) -> list[str]:
    """The questions asked so far, in order (for back links and the summary)."""
    return journey.route(answers, next_step, STEP_FIELDS, "result")


def answers_on_route(answers: dict[str, Any]) -> dict[str, Any]:
    return journey.answers_on_route(answers, next_step, STEP_FIELDS, "result")


def answers_after_saving(answers: dict[str, Any], step: str, new: dict[str, Any]) -> dict[str, Any]:
    """The checker's answers once ``step`` is (re)answered: every other answer is kept."""
    return journey.answers_after_saving(answers, step, new, next_step, STEP_FIELDS, "result")


def facts_from_answers(answers: dict[str, Any], funding_round) -> dict[str, Any]:
    """Facts for ``decide`` from the checker's answers and the stored GIAS and list data."""
    from .models import IttProvider
    from .services import facts_for_early_years, facts_for_institution

    facts: dict[str, Any] = {
        "round": funding_round.code,
        "course": answers["course"],
        "in_england": answers.get("in_england") == "yes",
    }
    for name in ("work_setting", "kind_of_nursery", "employment_type", "npqh_status"):
        if answers.get(name):
            facts[name] = answers[name]
    if answers.get("urn"):
        institution = Institution.objects.filter(urn=answers["urn"]).first()
        if institution is not None:
            facts.update(facts_for_institution(institution=institution, funding_round=funding_round))
    if answers.get("workplace_not_listed") and not answers.get("urn"):
        facts["workplace_not_listed"] = True
    if answers.get("ofsted_urn"):
        facts.update(facts_for_early_years(ofsted_urn=answers["ofsted_urn"], funding_round=funding_round))
    if answers.get("itt_provider"):
        facts["approved_itt_provider"] = IttProvider.objects.filter(
            pk=answers["itt_provider"], approved=True
        ).exists()
    if "headteacher" in answers:
        facts["headteacher"] = answers["headteacher"] == "yes"
        if answers.get("years_as_headteacher") is not None:
            facts["years_as_headteacher"] = answers["years_as_headteacher"]
    if "referred_by_return_to_teaching_adviser" in answers:
        facts["referred_by_return_to_teaching_adviser"] = (
            answers["referred_by_return_to_teaching_adviser"] == "yes"
        )
    if "withdrew_from_ehco_before" in answers:
        facts["withdrew_from_ehco_before"] = answers["withdrew_from_ehco_before"] == "yes"
    return facts
