"""Helpers shared by the privacy tests (tests/test_privacy*.py) and the attack review's
(tests/test_attack_review*.py)."""

from __future__ import annotations

import io
import zipfile

from privacy.models import SubjectAccessExport


def two_factor_client(client, user):
    """``client`` signed in as ``user``, as if with their authenticator app (admin asks for it)."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "mfa", "type": "totp", "at": 0}]
    session.save()
    return client


def read_export(export: SubjectAccessExport) -> zipfile.ZipFile:
    with export.file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))
