"""The public "check your funding" questions: one question per page, the route as data.

``next_step(answers)`` says which question comes next (or ``result``); ``facts_from_answers``
turns the answers into facts for ``funding.eligibility.decide``. Both are plain functions,
tested without HTTP; the views only show forms and store answers in the session.
"""

from .facts import facts_from_answers
from .questions import (
    STEPS,
    YES_NO,
    CourseForm,
    EmploymentForm,
    HeadteacherForm,
    InEnglandForm,
    IttProviderForm,
    KindOfNurseryForm,
    NpqhStatusForm,
    OfstedForm,
    ReturnToTeachingForm,
    WorkSettingForm,
)
from .steps import (
    STEP_FIELDS,
    WORKPLACE_FIELDS,
    answers_after_saving,
    answers_on_route,
    next_step,
    route,
    workplace_step,
)
from .workplace import (
    NOT_LISTED,
    SEARCH_LIMIT,
    UnlistedWorkplaceForm,
    WorkplaceForm,
    find_institutions,
    workplace_form_class,
)

__all__ = [
    "NOT_LISTED",
    "SEARCH_LIMIT",
    "STEPS",
    "STEP_FIELDS",
    "WORKPLACE_FIELDS",
    "YES_NO",
    "CourseForm",
    "EmploymentForm",
    "HeadteacherForm",
    "InEnglandForm",
    "IttProviderForm",
    "KindOfNurseryForm",
    "NpqhStatusForm",
    "OfstedForm",
    "ReturnToTeachingForm",
    "UnlistedWorkplaceForm",
    "WorkSettingForm",
    "WorkplaceForm",
    "answers_after_saving",
    "answers_on_route",
    "facts_from_answers",
    "find_institutions",
    "next_step",
    "route",
    "workplace_form_class",
    "workplace_step",
]
