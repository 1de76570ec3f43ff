"""allauth's account forms in the portal's words (GOV.UK style): sentence-case labels, an error
message that says what to do for every empty field and no placeholders. The sign-in page does
not show allauth's "Remember me" box (left unticked, a sign-in ends when the browser closes).

Named in ACCOUNT_FORMS; the pages that show them are in templates/account/.
"""

from __future__ import annotations

from typing import Any

from allauth.account import forms as allauth_forms
from django import forms

CHOOSING_A_NEW_ONE = (
    "Use at least 8 characters. Do not use a common password, one made only of numbers "
    "or one like your email address."
)

# field name: (label, message when empty, hint or None to keep allauth's, or "" for none)
Wording = dict[str, tuple[str, str, str | None]]


def reword(form: forms.Form, wording: Wording) -> None:
    for name, (label, required, hint) in wording.items():
        field = form.fields.get(name)
        if field is None:
            continue
        field.label = label
        field.error_messages["required"] = required
        if hint is not None:
            field.help_text = hint
        field.widget.attrs.pop("placeholder", None)


EMAIL = ("Email address", "Enter your email address", "")
NEW_PASSWORDS: Wording = {
    "password1": ("Create a password", "Enter a password", CHOOSING_A_NEW_ONE),
    "password2": ("Confirm your password", "Enter the password again", ""),
}


class SignInForm(allauth_forms.LoginForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reword(self, {"login": EMAIL, "password": ("Password", "Enter your password", "")})


class CreateAccountForm(allauth_forms.SignupForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reword(
            self,
            {
                "email": (
                    "Email address",
                    "Enter your email address",
                    "We will send you a link to confirm it. If you are endorsing an application, "
                    "use the address the request was sent to.",
                ),
                **NEW_PASSWORDS,
            },
        )


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reword(self, {"email": EMAIL})


class NewPasswordForm(allauth_forms.ResetPasswordKeyForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reword(
            self,
            {
                "password1": ("New password", "Enter a new password", CHOOSING_A_NEW_ONE),
                "password2": ("Confirm your new password", "Enter the new password again", ""),
            },
        )


class ChangePasswordForm(allauth_forms.ChangePasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reword(
            self,
            {
                "oldpassword": ("Current password", "Enter your current password", ""),
                "password1": ("New password", "Enter a new password", CHOOSING_A_NEW_ONE),
                "password2": ("Confirm your new password", "Enter the new password again", ""),
            },
        )


class SetPasswordForm(allauth_forms.SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reword(self, NEW_PASSWORDS)


class AddEmailForm(allauth_forms.AddEmailForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reword(self, {"email": ("Email address", "Enter the email address to add", "")})


class ReauthenticateForm(allauth_forms.ReauthenticateForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reword(self, {"password": ("Password", "Enter your password", "")})
