"""Staff pages for declarations (decisions.md, 39): a cohort's declarations (due, ready, at risk,
declared with DfE's state), a participant's evidence (printable), declaring one or in bulk,
voiding with a reason, and the assurance pack (CSV in DfE's assurance-report columns). Every
page checks the hub: staff see their hubs' cohorts and change only the hubs they administer."""

# Imported for their registrations with the admin site (dfe/admin.py imports this package).
from . import declaration, evidence, rules  # noqa: F401
