"""Admin for funding: rounds, GIAS data, eligibility lists, imports, decisions and reviews.

One module of this package per concern; importing them here registers their admins."""

from . import (  # noqa: F401 - importing a module registers its admins
    decisions,
    eligibility_lists,
    imports,
    reference_data,
    reviews,
    rounds,
)
from .common import SuperuserOnlyAdmin, facts_summary, summary_list

__all__ = ["SuperuserOnlyAdmin", "facts_summary", "summary_list"]
