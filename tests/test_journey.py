"""Changing an answer keeps every answer still valid and asks only what the change made necessary.

The journey function (``common.journey.answers_after_saving``) over the application form's
and the funding checker's routes, without HTTP or a database: derived facts (the NPQ's code,
the funding decision) are given as the pages would derive them.
"""

from applications import wizard
from common import journey
from funding import checker

COMPLETE = {
    "in_england": "yes",
    "work_setting": "school",
    "workplace": "137001",
    "urn": 137001,
    "workplace_name": "Northfield Academy",
    "role": "SENCO",
    "course": 3,
    "course_code": "NPQSENCO",
    "endorsed_by": "headteacher",
    "senco_in_role_since": "2023-09-01",
    "funding_seen": True,
    "funded": True,
    "funding_reason": "funded",
    "trn": "1234567",
    "full_name": "Alice Adeyemi",
    "date_of_birth": "1985-03-27",
    "endorser_name": "Hana Hughes",
    "endorser_email": "hana@school.example",
    "endorser_for": "headteacher",
    "mentor_name": "Mo Mentor",
    "mentor_email": "mo@school.example",
    "support_requested": "no",
    "consent": True,
}


def save(answers: dict, step: str, new: dict, derive=None) -> dict:
    return journey.answers_after_saving(
        answers, step, new, wizard.next_step, wizard.STEP_FIELDS, wizard.END, derive=derive
    )


def without(answers: dict, *names: str) -> dict:
    return {k: v for k, v in answers.items() if k not in names}


def test_the_complete_answers_are_complete():
    assert wizard.next_step(COMPLETE) == wizard.END
    assert wizard.answers_on_route(COMPLETE) == COMPLETE


def test_changing_the_role_keeps_every_other_answer():
    changed = save(COMPLETE, "role", {"role": "Deputy headteacher"})
    assert changed == {**COMPLETE, "role": "Deputy headteacher"}
    assert wizard.next_step(changed) == wizard.END  # back to check your answers


def test_saving_any_step_unchanged_keeps_everything():
    for step in wizard.route(COMPLETE):
        again = {name: COMPLETE[name] for name in wizard.STEP_FIELDS[step] if name in COMPLETE}
        assert save(COMPLETE, step, again) == COMPLETE, step


def test_a_new_npq_with_its_own_questions_asks_only_those():
    ehco = {"course": 9, "course_code": "EHCO", "endorsed_by": "headteacher"}
    changed = save(COMPLETE, "course", ehco)
    assert wizard.next_step(changed) == "headteacher"
    changed = save(changed, "headteacher", {"headteacher": "yes", "years_as_headteacher": 2})
    assert wizard.next_step(changed) == "npqh"
    changed = save(changed, "npqh", {"npqh_status": "completed", "withdrew_from_ehco_before": "no"})
    assert wizard.next_step(changed) == wizard.END
    # Everything else survived; the SENCO date, off the route now, is dropped.
    assert changed == {
        **without(COMPLETE, "senco_in_role_since"),
        **ehco,
        "headteacher": "yes",
        "years_as_headteacher": 2,
        "npqh_status": "completed",
        "withdrew_from_ehco_before": "no",
    }


def test_an_npq_without_the_senco_question_drops_the_senco_date():
    npqlpm = {"course": 4, "course_code": "NPQLPM", "endorsed_by": "headteacher"}
    changed = save(COMPLETE, "course", npqlpm)
    assert wizard.next_step(changed) == wizard.END
    assert changed == {**without(COMPLETE, "senco_in_role_since"), **npqlpm}


def test_while_a_new_question_waits_answers_off_the_route_are_ignored_not_lost():
    changed = save(COMPLETE, "course", {"course": 9, "course_code": "EHCO", "endorsed_by": "headteacher"})
    assert changed["senco_in_role_since"] == "2023-09-01"  # kept until the route is complete
    assert "senco_in_role_since" not in wizard.answers_on_route(changed)
    assert "trn" in changed and "consent" in changed


def test_an_npq_endorsed_by_a_line_manager_asks_who_that_is():
    npqh = {"course": 5, "course_code": "NPQH", "endorsed_by": "line_manager"}
    changed = save(COMPLETE, "course", npqh)
    assert wizard.next_step(changed) == "endorser"
    changed = save(
        changed,
        "endorser",
        {"endorser_name": "Lee Line", "endorser_email": "lee@school.example", "endorser_for": "line_manager"},
    )
    assert wizard.next_step(changed) == wizard.END
    assert changed["mentor_name"] == "Mo Mentor" and changed["trn"] == "1234567"


def test_a_new_work_setting_that_needs_the_workplace_search_asks_for_it():
    elsewhere = without(COMPLETE, "workplace", "urn", "workplace_name")
    elsewhere = {**elsewhere, "work_setting": "another_setting", "employment_type": "hospital_school"}
    assert wizard.next_step(elsewhere) == wizard.END
    changed = save(elsewhere, "work-setting", {"work_setting": "school"})
    assert wizard.next_step(changed) == "workplace"
    changed = save(
        changed, "workplace", {"workplace": "137001", "urn": 137001, "workplace_name": "Northfield"}
    )
    assert wizard.next_step(changed) == wizard.END
    assert "employment_type" not in changed  # the hospital school answer is off the route
    assert changed["role"] == "SENCO" and changed["consent"] is True


def test_a_work_setting_with_the_same_search_keeps_the_workplace():
    changed = save(COMPLETE, "work-setting", {"work_setting": "academy_trust"})
    assert wizard.next_step(changed) == wizard.END and changed["urn"] == 137001


def test_a_workplace_not_listed_replaces_the_chosen_one():
    unlisted = {
        "workplace_not_listed": True,
        "workplace_name": "Hillside School",
        "workplace_postcode": "ME1 1AA",
    }
    changed = save(COMPLETE, "workplace", unlisted)
    assert "urn" not in changed and "workplace" not in changed
    assert changed["workplace_name"] == "Hillside School" and wizard.next_step(changed) == wizard.END


def test_a_changed_funding_decision_is_shown_again_and_asks_how_the_course_is_paid():
    def decide_not_funded(answers: dict) -> dict:  # as the wizard derives it
        answers = {**answers, "funded": False, "funding_reason": "ineligible_establishment_not_on_list"}
        answers.pop("funding_seen", None)
        return answers

    changed = save(
        COMPLETE,
        "course",
        {"course": 1, "course_code": "NPQLT", "endorsed_by": "headteacher"},
        decide_not_funded,
    )
    assert wizard.next_step(changed) == "funding"
    seen = save(changed, "funding", {"funding_seen": True, "funded": False, "funding_reason": "x"})
    assert wizard.next_step(seen) == "payment"
    paid = save(seen, "payment", {"payment": "school"})
    assert wizard.next_step(paid) == wizard.END and paid["trn"] == "1234567"


def test_payment_goes_once_funded():
    unfunded = {**COMPLETE, "funded": False, "funding_reason": "ineligible", "payment": "school"}
    assert wizard.next_step(unfunded) == wizard.END
    changed = save(unfunded, "role", {"role": "SENCO"}, lambda a: {**a, "funded": True})
    assert "payment" not in changed


# --- The funding checker ---------------------------------------------------------------------------

CHECKED = {
    "course": "NPQLT",
    "in_england": "yes",
    "work_setting": "school",
    "workplace": "137001",
    "urn": 137001,
}


def test_checker_a_change_to_ehco_asks_the_ehco_questions_then_the_result():
    changed = checker.answers_after_saving(CHECKED, "course", {"course": "EHCO"})
    assert checker.next_step(changed) == "headteacher"
    changed = checker.answers_after_saving(
        changed, "headteacher", {"headteacher": "yes", "years_as_headteacher": 1}
    )
    changed = checker.answers_after_saving(
        changed, "npqh", {"npqh_status": "in_progress", "withdrew_from_ehco_before": "no"}
    )
    assert checker.next_step(changed) == "result"
    assert changed["urn"] == 137001 and changed["work_setting"] == "school"


def test_checker_outside_england_drops_the_workplace_and_back_in_asks_again():
    changed = checker.answers_after_saving(CHECKED, "in-england", {"in_england": "no"})
    assert checker.next_step(changed) == "result" and changed == {"course": "NPQLT", "in_england": "no"}
    changed = checker.answers_after_saving(changed, "in-england", {"in_england": "yes"})
    assert checker.next_step(changed) == "work-setting"


def test_checker_changing_the_course_keeps_the_workplace():
    changed = checker.answers_after_saving(CHECKED, "course", {"course": "NPQH"})
    assert changed == {**CHECKED, "course": "NPQH"} and checker.next_step(changed) == "result"


def test_checker_headteacher_years_go_when_the_answer_becomes_no():
    ehco = {**CHECKED, "course": "EHCO", "headteacher": "yes", "years_as_headteacher": 3}
    changed = checker.answers_after_saving(
        ehco, "headteacher", {"headteacher": "no", "years_as_headteacher": None}
    )
    assert "years_as_headteacher" not in changed and changed["headteacher"] == "no"
