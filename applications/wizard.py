"""The application form as a journey: which question comes next, and each page's form.

Where the funding checker asks the same question, its form is reused. ``next_step`` is a plain
function of the answers so far (tested without HTTP).
"""

from __future__ import annotations

from typing import Any

from django import forms

from common import journey
from funding import checker
from funding.eligibility import Decision, decide, parse_facts
from funding.services import previous_funded_places
from programmes.models import Course, Participant

from . import forms as app_forms
from .models import Application
from .selectors import places_held


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
        self.programmes = {c.pk: c.programme for c in courses}
        # The NPQs this person already has a place on in this intake (at any hub).
        self.held: dict[int, Participant] = {
            p.course.programme_id: p
            for p in places_held(user=application.user, identifier=application.cohort.identifier)
        }

    def clean_course(self) -> int:
        course = self.cleaned_data["course"]
        programme = self.programmes[course]
        if programme.pk in self.held:
            raise forms.ValidationError(
                f"You already have a place on {programme.name} in this intake. Choose a different NPQ"
            )
        return course


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
    "return-to-teaching": (checker.ReturnToTeachingForm, "Has a return-to-teaching adviser referred you?"),
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
# Answers derived when a page is saved belong to that page (they are replaced when it is saved
# again): the workplace's name (or the name and postcode of one not listed), the NPQ's code and
# who endorses it, the funding decision shown and whom the endorser answer was for.
STEP_FIELDS["workplace"] = checker.WORKPLACE_FIELDS
STEP_FIELDS["course"] = ("course", "course_code", "endorsed_by")
STEP_FIELDS["funding"] = ("funding_seen", "funded", "funding_reason")
STEP_FIELDS["endorser"] = ("endorser_name", "endorser_email", "endorser_for")
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
    for step, name in (("trn", "trn"), ("identity", "full_name")):
        if name not in answers:
            return step
    # Asked again when a new NPQ is endorsed by someone else (a line manager, not the head).
    if "endorser_name" not in answers or answers.get(
        "endorser_for", answers.get("endorsed_by")
    ) != answers.get("endorsed_by"):
        return "endorser"
    for step, name in (
        ("mentor", "mentor_name"),
        ("support", "support_requested"),
        ("consent", "consent"),
    ):
        if name not in answers:
            return step
    return END


def route(answers: dict[str, Any]) -> list[str]:
    return journey.route(answers, next_step, STEP_FIELDS, END)


def answers_on_route(answers: dict[str, Any]) -> dict[str, Any]:
    return journey.answers_on_route(answers, next_step, STEP_FIELDS, END)


def is_complete(answers: dict[str, Any]) -> bool:
    return journey.is_complete(answers, next_step, END)


def answers_after_saving(application: Application, step: str, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The application's answers once ``step`` is saved with ``cleaned``: every other answer is
    kept (a change asks only the questions it made necessary) and the funding decision is made
    again from the answers on the route."""
    new = {**cleaned, **derived_answers(step, application, cleaned)}

    def with_funding(answers: dict[str, Any]) -> dict[str, Any]:
        if "funding" not in route(answers):  # not every question the decision needs is answered
            return answers
        decision = funding_decision(application, answers)
        shown = answers.get("funding_reason")
        answers = {**answers, "funded": decision.funded, "funding_reason": decision.reason}
        if shown is not None and shown != decision.reason:
            answers.pop("funding_seen", None)  # the outcome changed: show it again
        return answers

    return journey.answers_after_saving(
        application.answers, step, new, next_step, STEP_FIELDS, END, derive=with_funding
    )


def build_form(step: str, application: Application, data=None, *, not_listed: bool = False) -> forms.Form:
    form_class, _ = STEPS[step]
    form_class = checker.workplace_form_class(step, not_listed) or form_class
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


def funding_decision(application: Application, answers: dict[str, Any]) -> Decision:
    """The decision the applicant will get (shown before they choose how the course is paid),
    from the answers on the route, as ``application_submit`` will make it."""
    answers = answers_on_route(answers)
    course = Course.objects.select_related("programme").get(pk=answers["course"], cohort=application.cohort)
    funding_round = application.cohort.funding_round
    facts = checker.facts_from_answers({**answers, "course": course.programme.code}, funding_round)
    facts["cohort_funding"] = application.cohort.funding_model
    facts["previous_funded_places"] = previous_funded_places(user=application.user, exclude_course=course)
    return decide(parse_facts(facts), funding_round.rules())


def funding_preview(application: Application) -> Decision:
    return funding_decision(application, application.answers)


def derived_answers(step: str, application: Application, cleaned: dict[str, Any]) -> dict[str, Any]:
    """Extra answers derived when a page is saved (names and codes shown later)."""
    extra: dict[str, Any] = {}
    if step == "course":
        programme = Course.objects.select_related("programme").get(pk=cleaned["course"]).programme
        extra["course_code"] = programme.code
        extra["endorsed_by"] = "line_manager" if programme.endorsed_by_line_manager else "headteacher"
    if step == "workplace" and cleaned.get("urn"):
        from funding.models import Institution

        institution = Institution.objects.filter(urn=cleaned["urn"]).first()
        extra["workplace_name"] = institution.name if institution else ""
    if step == "funding":
        extra["funding_seen"] = True
    if step == "endorser":
        extra["endorser_for"] = application.answers.get("endorsed_by")
    return extra
