"""The application form as a journey: which question comes next, and each page's form.

Where the funding checker asks the same question, its form is reused. ``next_step`` is a plain
function of the answers so far (tested without HTTP).
"""

from __future__ import annotations

from typing import Any

from django import forms

from funding import checker
from funding.eligibility import decide, parse_facts
from npq_portal import journey
from programmes.models import Course

from . import forms as app_forms
from .models import Application


class CourseChoiceForm(forms.Form):
    course = forms.TypedChoiceField(
        coerce=int,
        widget=forms.RadioSelect,
        label="Which NPQ do you want to apply for?",
        error_messages={"required": "Select the NPQ you want to apply for"},
    )

    def __init__(self, *args: Any, application: Application, **kwargs: Any):
        super().__init__(*args, **kwargs)
        courses = Course.objects.filter(cohort=application.cohort).select_related("programme")
        self.fields["course"].choices = [(c.pk, c.programme.name) for c in courses]


class FundingSeenForm(forms.Form):
    funding_seen = forms.BooleanField(required=False, widget=forms.HiddenInput, initial=True)

    def clean_funding_seen(self) -> bool:
        return True


# step -> (form class, page title). Forms needing the application are built by build_form.
STEPS: dict[str, tuple[type[forms.Form], str]] = {
    "in-england": (checker.InEnglandForm, "Do you work in England?"),
    "work-setting": (checker.WorkSettingForm, "Where do you work?"),
    "kind-of-nursery": (checker.KindOfNurseryForm, "What kind of early years setting do you work in?"),
    "ofsted": (checker.OfstedForm, "What is your Ofsted URN?"),
    "workplace": (checker.WorkplaceForm, "Find your workplace"),
    "employment": (checker.EmploymentForm, "How are you employed?"),
    "itt-provider": (checker.IttProviderForm, "Your initial teacher training provider"),
    "role": (app_forms.RoleForm, "What is your role?"),
    "course": (CourseChoiceForm, "Which NPQ do you want to apply for?"),
    "headteacher": (checker.HeadteacherForm, "Are you a headteacher?"),
    "npqh": (checker.NpqhStatusForm, "The NPQ in Headship"),
    "senco": (app_forms.SencoForm, "When did you become a SENCO?"),
    "funding": (FundingSeenForm, "Your funding"),
    "payment": (app_forms.PaymentForm, "How is your course being paid for?"),
    "trn": (app_forms.TrnForm, "What is your teacher reference number (TRN)?"),
    "identity": (app_forms.IdentityForm, "Your name and date of birth"),
    "endorser": (app_forms.EndorserForm, "Who will endorse your application?"),
    "mentor": (app_forms.MentorForm, "Who is your mentor?"),
    "support": (app_forms.SupportForm, "Would you like 1:1 support?"),
    "consent": (app_forms.ConsentForm, "Sharing your information"),
}
STEP_FIELDS = {name: tuple(form.base_fields) for name, (form, _) in STEPS.items()}
# Answers derived when a page is saved belong to that page (so they go when it is changed).
STEP_FIELDS["workplace"] = ("workplace", "urn", "workplace_name")
STEP_FIELDS["course"] = ("course", "course_code")
STEP_FIELDS["funding"] = ("funding_seen", "funded")
END = "check"


def next_step(answers: dict[str, Any]) -> str:
    """The first question not yet answered on this applicant's route, or ``check``."""
    if "in_england" not in answers:
        return "in-england"
    if step := checker.workplace_step(answers):
        return step
    for step, name in (("role", "role"), ("course", "course")):
        if name not in answers:
            return step
    code = answers.get("course_code")
    if code == "EHCO":
        if "headteacher" not in answers:
            return "headteacher"
        if "npqh_status" not in answers:
            return "npqh"
    if code == "NPQSENCO" and "senco_in_role_since" not in answers:
        return "senco"
    if "funding_seen" not in answers:
        return "funding"
    if not answers.get("funded") and "payment" not in answers:
        return "payment"
    for step, name in (
        ("trn", "trn"),
        ("identity", "full_name"),
        ("endorser", "endorser_name"),
        ("mentor", "mentor_name"),
        ("support", "support_requested"),
        ("consent", "consent"),
    ):
        if name not in answers:
            return step
    return END


def route(answers: dict[str, Any]) -> list[str]:
    return journey.route(answers, next_step, STEP_FIELDS, END)


def build_form(step: str, application: Application, data=None) -> forms.Form:
    form_class, _ = STEPS[step]
    kwargs: dict[str, Any] = {"data": data}
    if data is None:
        kwargs["initial"] = application.answers
    if form_class is CourseChoiceForm:
        kwargs["application"] = application
    if form_class is app_forms.EndorserForm:
        kwargs["applicant_email"] = application.user.email
    form = form_class(**kwargs)
    if form_class is app_forms.EndorserForm:
        who = endorser_title(application)
        form.fields["endorser_name"].label = f"Your {who}'s full name"
        form.fields["endorser_email"].label = f"Your {who}'s email address"
    return form


def endorser_title(application: Application) -> str:
    if application.course_id and application.course.programme.endorsed_by_line_manager:
        return "line manager"
    return "headteacher"


def step_title(step: str, application: Application) -> str:
    if step == "endorser":
        return f"Who is your {endorser_title(application)}?"
    return STEPS[step][1]


def funding_preview(application: Application):
    """The decision the applicant will get, shown before they choose how the course is paid."""
    answers = {**application.answers, "course": application.course.programme.code}
    funding_round = application.cohort.funding_round
    facts = checker.facts_from_answers(answers, funding_round)
    facts["cohort_funding"] = application.cohort.funding_model
    return decide(parse_facts(facts), funding_round.rules())


def derived_answers(step: str, application: Application, cleaned: dict[str, Any]) -> dict[str, Any]:
    """Extra answers derived when a page is saved (names and codes shown later)."""
    extra: dict[str, Any] = {}
    if step == "course":
        extra["course_code"] = (
            Course.objects.select_related("programme").get(pk=cleaned["course"]).programme.code
        )
    if step == "workplace" and cleaned.get("urn"):
        from funding.models import Institution

        institution = Institution.objects.filter(urn=cleaned["urn"]).first()
        extra["workplace_name"] = institution.name if institution else ""
    if step == "funding":
        extra["funded"] = funding_preview(application).funded
    return extra
