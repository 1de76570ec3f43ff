"""GOV.UK form pieces shared by the public funding checker and the application form: radios
whose "required" error says what to select, and the yes or no choice."""

from __future__ import annotations

from django import forms

YES_NO = [("yes", "Yes"), ("no", "No")]


def radios(choices, label: str, required_message: str, hint: str = "") -> forms.ChoiceField:
    """A question answered by one of ``choices`` (radios), with its hint and its own message
    when nothing is selected ("Select yes if ...")."""
    return forms.ChoiceField(
        choices=choices,
        widget=forms.RadioSelect,
        label=label,
        help_text=hint,
        error_messages={"required": required_message},
    )
