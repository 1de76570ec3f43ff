"""Admin for personal data: copies for subject access (hub administrators for their hub's
people, superusers for anyone), erasure (superusers only), the retention schedule and its
report, and the access log (a hub's administrators see their hub's entries).

Importing the submodules registers their admins."""

from .access_log import AccessLogEntryAdmin
from .copies import SubjectAccessExportAdmin
from .erasure import TALLY_WORDS, ErasureRecordAdmin
from .retention import SUPERUSER_ONLY_KINDS, RetentionRuleAdmin, RetentionRuleForm
from .scope import PersonForm, hub_ids, is_hub_admin

__all__ = [
    "SUPERUSER_ONLY_KINDS",
    "TALLY_WORDS",
    "AccessLogEntryAdmin",
    "ErasureRecordAdmin",
    "PersonForm",
    "RetentionRuleAdmin",
    "RetentionRuleForm",
    "SubjectAccessExportAdmin",
    "hub_ids",
    "is_hub_admin",
]
