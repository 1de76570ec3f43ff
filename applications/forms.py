"""Forms of the application pages that are not shared with the funding checker."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from common.dates import TypedDateField, long_date
from common.forms import YES_NO, radios


class CohortForm(forms.Form):
    """The first question of the application: one of the cohorts open for registration."""

    cohort = forms.ModelChoiceField(
        queryset=None,
        widget=forms.RadioSelect,
        label="Which cohort do you want to join?",
        error_messages={
            "required": "Select the cohort you want to join",
            "invalid_choice": "Select a cohort that is open for registration",
        },
    )

    def __init__(self, *args: Any, cohorts: QuerySet, user=None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = cohorts
        self.user = user

    def clean_cohort(self):
        cohort = self.cleaned_data["cohort"]
        if self.user is None:
            return cohort
        from programmes.models import Course

        from .selectors import places_held

        held = {p.course.programme_id for p in places_held(user=self.user, identifier=cohort.identifier)}
        offered = set(Course.objects.filter(cohort=cohort).values_list("programme_id", flat=True))
        if offered and offered <= held:
            raise forms.ValidationError(
                "You already have a place on every NPQ this cohort offers. Choose a different cohort"
            )
        return cohort


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why are you withdrawing? (optional)",
        error_messages={
            "max_length": "Reason must be 500 characters or fewer",
            "null_characters_not_allowed": "Enter a reason using letters, numbers and punctuation",
        },
    )


class EndorsementForm(forms.Form):
    decision = radios(
        [("endorse", "Yes, I endorse this application"), ("decline", "No, I do not endorse it")],
        "Do you endorse this application?",
        "Select whether you endorse this application",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Why do you not endorse it?",
        help_text="The applicant will see this.",
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "decline" and not data.get("reason", "").strip():
            self.add_error("reason", "Enter why you do not endorse the application")
        return data


def normalise_trn(value: str) -> str:
    """TRNs are written with spaces, an 'RP' prefix or slashes (RP99/12345); keep the 7 digits."""
    return re.sub(r"[\s/]", "", value.upper()).removeprefix("RP")


class TrnForm(forms.Form):
    trn = forms.CharField(
        label="What is your teacher reference number (TRN)?",
        help_text="It is 7 digits, for example 1234567. You can find it on your teacher pension or payslip.",
        error_messages={"required": "Enter your teacher reference number (TRN)"},
    )

    def clean_trn(self) -> str:
        trn = normalise_trn(self.cleaned_data["trn"])
        if not trn.isdigit():
            raise forms.ValidationError("Teacher reference number must only contain numbers")
        if len(trn) != 7:
            raise forms.ValidationError("Teacher reference number must be 7 digits")
        if trn == "0000000":
            raise forms.ValidationError("Enter your own teacher reference number, not 0000000")
        return trn


class IdentityForm(forms.Form):
    full_name = forms.CharField(
        max_length=200,
        label="What is your full name as held by the Teaching Regulation Agency?",
        help_text="Use the name on your teaching record; it is used to check your TRN.",
        error_messages={"required": "Enter your full name"},
    )
    date_of_birth = TypedDateField(
        label="What is your date of birth?",
        help_text="For example, 27 3 1985 or 27/03/1985.",
        error_messages={
            "required": "Enter your date of birth",
            "invalid": "Enter your date of birth as day, month and year, like 27 3 1985",
        },
    )

    def clean_date_of_birth(self) -> str:
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born >= today:
            raise forms.ValidationError("Date of birth must be in the past")
        if born.year < today.year - 100:
            earliest = date(today.year - 100, 1, 1)
            raise forms.ValidationError(f"Date of birth must be on or after {long_date(earliest)}")
        if born > date(today.year - 18, today.month, min(today.day, 28)):
            raise forms.ValidationError("You must be 18 or older to apply: check your date of birth")
        return born.isoformat()


class EndorserForm(forms.Form):
    endorser_name = forms.CharField(
        max_length=200, label="Full name", error_messages={"required": "Enter their full name"}
    )
    endorser_email = forms.EmailField(
        label="Email address",
        help_text="We will email them a link to endorse your application.",
        error_messages={
            "required": "Enter their email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
    )

    def __init__(self, *args: Any, applicant_email: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.applicant_email = applicant_email.lower()

    def clean_endorser_email(self) -> str:
        email = self.cleaned_data["endorser_email"].lower()
        if email == self.applicant_email:
            raise forms.ValidationError(
                "Enter your headteacher's or line manager's email address, not your own"
            )
        return email


class MentorForm(forms.Form):
    mentor_name = forms.CharField(
        max_length=200,
        label="Mentor's full name",
        error_messages={"required": "Enter your mentor's full name"},
    )
    mentor_email = forms.EmailField(
        label="Mentor's email address",
        help_text="Your mentor confirms your check-ins during the course.",
        error_messages={
            "required": "Enter your mentor's email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
    )


class RoleForm(forms.Form):
    role = forms.CharField(
        max_length=200,
        label="What is your role?",
        help_text="For example, head of year 7 or deputy headteacher.",
        error_messages={"required": "Enter your role"},
    )


class SencoForm(forms.Form):
    senco_in_role_since = TypedDateField(
        with_day=False,
        label="When did you become a SENCO?",
        help_text="Month and year, for example 9 2023. Leave empty if you are not a SENCO yet.",
        required=False,
        error_messages={"invalid": "Enter the month and year, like 9 2023"},
    )

    def clean_senco_in_role_since(self) -> str:
        since = self.cleaned_data["senco_in_role_since"]
        if since is None:
            return "not_yet"
        if since > timezone.localdate():
            raise forms.ValidationError("The date you became a SENCO must be in the past")
        return since.isoformat()


class PaymentForm(forms.Form):
    payment = radios(
        [("school", "My school"), ("trust", "My trust"), ("self", "I will pay"), ("another", "Another way")],
        "How is your course being paid for?",
        "Select how your course is being paid for",
    )


class SupportForm(forms.Form):
    support_requested = radios(
        YES_NO,
        "Would you like 1:1 support from your hub?",
        "Select yes if you would like 1:1 support",
        hint="For example, because of a disability or a long-term health condition.",
    )


class ConsentForm(forms.Form):
    consent = forms.BooleanField(
        label="I agree that my hub may share this information with the Department for Education and the Teaching Regulation Agency to check my eligibility and record my NPQ.",
        error_messages={"required": "Confirm that you agree to share your information"},
    )


class EmploymentChangeForm(forms.Form):
    workplace_name = forms.CharField(
        max_length=255,
        label="Name of your new school or setting",
        error_messages={"required": "Enter the name of your new school or setting"},
    )
    role = forms.CharField(max_length=200, required=False, label="Your new role")
    headteacher_name = forms.CharField(
        max_length=200,
        label="New headteacher's full name",
        error_messages={"required": "Enter the new headteacher's full name"},
    )
    headteacher_email = forms.EmailField(
        label="New headteacher's email address",
        error_messages={
            "required": "Enter the new headteacher's email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
    )
