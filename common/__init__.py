"""The ground floor: helpers any app may use, which import no app of the portal.

- ``csv_export``: every CSV file the portal writes (cells safe to open in a spreadsheet).
- ``csv_files``: reading uploaded CSV files, streamed, with refusals in words.
- ``dates``: dates typed the GOV.UK way, and moments written the GOV.UK way.
- ``journey``: one-question-per-page journeys (the funding checker, the application form).
- ``forms``: GOV.UK form pieces of those journeys (radios, yes or no).
- ``admin_accessibility``: Django admin forms that stay accessible.
- ``personal_data``: the registry where each app declares its personal data (privacy reads it).

docs/architecture.md has the floors and the import-linter contract that keeps them.
"""
