"""Admin of funding rounds: their rules in words and DfE's eligibility lists of each round."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from ..dfe_lists import FORMATS
from ..models import EligibilityListChange, EligibilityListEntry, FundingRound, rules_from_data
from ..wording import round_settings_in_words, rules_in_words
from .common import SuperuserOnlyAdmin, summary_list


class FundingRoundForm(forms.ModelForm):
    class Meta:
        model = FundingRound
        fields = ("code", "name", "in_force_from", "rules_data")

    def clean(self):
        data = super().clean()
        rules = data.get("rules_data") or {}
        if not isinstance(rules, dict):
            self.add_error("rules_data", "The rules must be a JSON object.")
        else:
            try:
                rules_from_data(data.get("code", ""), rules)
            except (TypeError, ValueError) as exc:
                self.add_error("rules_data", f"These rules cannot be used: {exc}.")
        return data


@admin.register(FundingRound)
class FundingRoundAdmin(SuperuserOnlyAdmin, SimpleHistoryAdmin):
    form = FundingRoundForm
    list_display = ("code", "name", "in_force_from")
    search_fields = ("code", "name")
    readonly_fields = ("rules_in_force", "eligibility_lists")

    def get_readonly_fields(self, request, obj=None):
        # Only superusers replace lists: others read the lists without the links.
        lists = "eligibility_lists" if request.user.is_superuser else "eligibility_list_sizes"
        return tuple(
            lists if name == "eligibility_lists" else name
            for name in super().get_readonly_fields(request, obj)
        )

    @admin.display(description="DfE's eligibility lists")
    def eligibility_list_sizes(self, obj: FundingRound) -> str:
        return self.eligibility_lists(obj, links=False)

    @admin.display(description="DfE's eligibility lists")
    def eligibility_lists(self, obj: FundingRound, *, links: bool = True) -> str:
        """Each of DfE's lists for the round: its size, when it was last replaced and by whom,
        with links to replace it (one step) and to its history."""
        if obj.pk is None:
            return "Shown once the round is saved."
        sizes = dict(
            EligibilityListEntry.objects.filter(funding_round=obj)
            .values_list("kind")
            .annotate(n=Count("pk"))
            .values_list("kind", "n")
        )
        last: dict[str, EligibilityListChange] = {}
        for change in EligibilityListChange.objects.filter(funding_round=obj).select_related("replaced_by"):
            last.setdefault(change.kind, change)
        replace = reverse("admin:funding_importrun_add")
        history = reverse("admin:funding_eligibilitylistchange_changelist")
        rows = []
        for f in FORMATS:
            change = last.get(f.kind)
            when = (
                format_html(
                    "last replaced {} by {}",
                    date_format(timezone.localtime(change.replaced_at), "j M Y, H:i"),
                    change.replaced_by or "a command",
                )
                if change
                else "not replaced in the portal"
            )
            if not links:
                rows.append((f.name, format_html("{} settings; {}.", f"{sizes.get(f.kind, 0):,}", when)))
                continue
            rows.append(
                (
                    f.name,
                    format_html(
                        '{} settings; {}.<ul class="npq-links"><li><a href="{}?kind=eligibility_list&amp;funding_round={}&amp;list_kind={}">'
                        'Replace the list \u201c{}\u201d</a></li><li><a href="{}?funding_round__id__exact={}&amp;kind={}">'
                        "History of the list \u201c{}\u201d</a></li></ul>",
                        f"{sizes.get(f.kind, 0):,}",
                        when,
                        replace,
                        obj.pk,
                        f.kind,
                        f.name,
                        history,
                        obj.pk,
                        f.kind,
                        f.name,
                    ),
                )
            )
        return summary_list(rows)

    @admin.display(description="Rules in force")
    def rules_in_force(self, obj: FundingRound) -> str:
        """The round's table in words, in the order it is read, and its other settings."""
        if obj.pk is None:
            return "Shown once the round is saved."
        try:
            rules = obj.rules()
        except (TypeError, ValueError) as exc:  # a new round whose rules data is incomplete
            return f"These rules are incomplete: {exc}"
        rows = format_html_join(
            "",
            '<tr><td class="npq-rule__number">{}</td><td>{}</td><td>{}</td></tr>',
            ((number, when, then) for number, (when, then) in enumerate(rules_in_words(rules), start=1)),
        )
        table = format_html(
            '<table class="npq-rules"><caption>After the checks made first, the first rule that applies '
            'decides</caption><thead><tr><th scope="col">Rule</th><th scope="col">When</th>'
            '<th scope="col">Decision</th></tr></thead><tbody>{}</tbody></table>',
            rows,
        )
        return format_html("{}{}", summary_list(round_settings_in_words(rules)), table)
