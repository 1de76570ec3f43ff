"""The checker's questions: one form per page, and the step names with their forms and titles."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from common.forms import YES_NO, radios

from .workplace import WorkplaceForm


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
    in_england = radios(
        YES_NO, "Do you work in England?", required_message="Select yes if you work in England"
    )


class WorkSettingForm(forms.Form):
    work_setting = radios(
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
    kind_of_nursery = radios(
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


class EmploymentForm(forms.Form):
    employment_type = radios(
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

    referred_by_return_to_teaching_adviser = radios(
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
        from ..models import IttProvider

        self.fields["itt_provider"].queryset = IttProvider.objects.all()

    def clean(self):
        data = super().clean()
        if data.get("itt_provider") is not None:
            data["itt_provider"] = data["itt_provider"].pk
        return data


class HeadteacherForm(forms.Form):
    headteacher = radios(
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
    npqh_status = radios(
        [
            ("completed", "I have completed it"),
            ("in_progress", "I am doing it now"),
            ("will_start", "I am about to start it"),
            ("none", "I have not done it and am not about to start it"),
        ],
        "Have you done the NPQ in Headship (NPQH)?",
        required_message="Select whether you have done the NPQ in Headship",
    )
    withdrew_from_ehco_before = radios(
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
