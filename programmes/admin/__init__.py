"""Django admin for hub staff. Every list, form, lookup, filter and action is scoped to the user.

Scoping lives in ``programmes.selectors.visible_to``; this package only wires it in and calls
services: ``base`` (the scoped admin every app's admin builds on, CSV export, read-only records),
``delivery`` (lead providers, hubs, programmes, cohorts, courses, groups) and ``people``
(participants, hub staff, freed places). Status changes have their own small admin page
(``programmes/admin_views.py``); engagement's pages attach to courses and groups from ``engagement.admin``.
"""

from ..admin_filters import NameSearchFilter, scoped_filter
from . import delivery, people  # noqa: F401  (registers the admins)
from .base import HubScopedAdmin, ReadOnlyMixin, export_as_csv, group_name

__all__ = [
    "HubScopedAdmin",
    "NameSearchFilter",
    "ReadOnlyMixin",
    "export_as_csv",
    "group_name",
    "scoped_filter",
]
