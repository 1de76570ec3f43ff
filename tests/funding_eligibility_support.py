"""Facts shared by the rows of the funding decision table (tests/test_funding_eligibility_*.py)."""

SCHOOL = {"in_england": True, "work_setting": "school", "establishment_type_code": 28, "la_code": "886"}
EY = {"in_england": True, "work_setting": "early_years"}
OTHER = {"in_england": True, "work_setting": "another_setting"}
EHCO = {
    **SCHOOL,
    "course": "EHCO",
    "headteacher": True,
    "years_as_headteacher": 2,
    "npqh_status": "completed",
}
