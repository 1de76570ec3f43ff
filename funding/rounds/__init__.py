"""The rules of each funding round, as data (docs/domain.md, "Funding eligibility").

A round is a ``RoundRules``: a few numbers and code lists, and an ordered table of rules. Each rule
is ``{"if": {condition: value, ...}, "then": reason}``; after the three general checks (cohort
unfunded, outside England, funded before for this NPQ) the first rule whose conditions all hold
gives the reason. ``funding.eligibility.decide`` is the one engine that reads any round.

These are the defaults shipped with the portal. Each round is also a ``FundingRound`` row whose
rules hub staff can see in words and a superuser can edit in admin (with history);
``FundingRound.rules()`` lays the stored JSON over these defaults. ``manage.py assess_funding``
uses the defaults so that it needs no database rows.

Conditions (every one must hold; a ``not_`` prefix on a list condition means "none of"):

- ``course``, ``setting``, ``employment_type``, ``npqh_status``, ``establishment_type_code``:
  the fact is one of the listed values. ``setting`` is the work setting, with an early years
  setting named by its kind (``local_authority_maintained_nursery``, ``childminder``, ...).
- ``on_list``: the workplace is on at least one of the listed eligibility lists.
- ``eligible_type`` (the establishment type is one of the round's state-funded types),
  ``new_headteacher`` (a headteacher for at most ``ehco_max_years_as_headteacher`` years),
  ``approved_itt_provider``, ``workplace_not_listed``, ``referred_by_return_to_teaching_adviser``,
  ``withdrew_from_ehco_before``: true or false.
"""

from .conditions import (
    ALL_COURSES,
    ALL_NPQS,
    CONDITIONS,
    EARLY_YEARS_SETTINGS,
    LA_NURSERY_SCHOOL,
    LEAD_MENTOR,
    NEGATABLE,
    OUTSIDE_ENGLAND_LA_CODES,
    PRIVATE_EARLY_YEARS,
    SCHOOL_NURSERIES,
    SCHOOL_SETTINGS,
    SETTINGS,
    SPECIAL_EMPLOYMENT,
    STATE_FUNDED_TYPE_CODES,
    RoundRules,
    RulesError,
    check_rules,
    rule,
)
from .defaults import DEFAULT_ROUNDS, ROUND_NAMES

__all__ = [
    "ALL_COURSES",
    "ALL_NPQS",
    "CONDITIONS",
    "DEFAULT_ROUNDS",
    "EARLY_YEARS_SETTINGS",
    "LA_NURSERY_SCHOOL",
    "LEAD_MENTOR",
    "NEGATABLE",
    "OUTSIDE_ENGLAND_LA_CODES",
    "PRIVATE_EARLY_YEARS",
    "ROUND_NAMES",
    "SCHOOL_NURSERIES",
    "SCHOOL_SETTINGS",
    "SETTINGS",
    "SPECIAL_EMPLOYMENT",
    "STATE_FUNDED_TYPE_CODES",
    "RoundRules",
    "RulesError",
    "check_rules",
    "rule",
]
