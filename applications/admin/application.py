"""Hub decisions in admin: the queue of endorsed applications, accept / waitlist / reject."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html

from funding.admin import facts_summary, summary_list
from funding.wording import EMPLOYMENT_TYPES, KINDS_OF_NURSERY, WORK_SETTINGS, reason_label
from programmes.admin import HubScopedAdmin, export_as_csv, scoped_filter
from programmes.selectors import register_scope

from ..endorsement_checks import address_summary, application_check, with_address_checks
from ..funded_place_admin import FundedPlaceAdminMixin, FundedPlaceChangeInline
from ..models import Application, Endorsement
from ..services import ASK_AGAIN_STATUSES, ApplicationError, application_accept, application_waitlist
from .decisions import ApplicationDecisionViews, S, staff_may
from .history import EndorsementInline, TransitionInline, _day

register_scope(Application, hub_path="cohort__hub")


CONCERNS = [c for c in Endorsement.DomainConcern.values if c]


class EndorserAddressFilter(admin.SimpleListFilter):
    title = "endorser's address"
    parameter_name = "endorser_address"

    def lookups(self, request, model_admin):
        return [
            ("check", "Needs checking"),
            ("confirmed", "Checked by staff"),
            ("fine", "No concern"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "check":
            return queryset.filter(
                endorser_address_concern__in=CONCERNS, endorser_address_confirmed_at__isnull=True
            )
        if self.value() == "confirmed":
            return queryset.filter(
                endorser_address_concern__in=CONCERNS, endorser_address_confirmed_at__isnull=False
            )
        if self.value() == "fine":
            return queryset.exclude(endorser_address_concern__in=CONCERNS)
        return queryset


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@admin.register(Application)
class ApplicationAdmin(ApplicationDecisionViews, FundedPlaceAdminMixin, HubScopedAdmin):
    # The columns staff scan the queue by; the rest is on each application's page (and in the
    # CSV export). Email and TRN stay searchable.
    list_display = ("applicant", "course", "status_words", "funding", "submitted")
    list_display_links = ("applicant",)
    # "cohort" for the row's name (each checkbox is labelled with it).
    list_select_related = ("user", "cohort", "course__programme", "course__cohort", "funding_decision")
    list_filter = (
        "status",
        EndorserAddressFilter,
        ("course__programme", scoped_filter),
        ("cohort", scoped_filter),
    )
    search_fields = ("user__email", "full_name", "trn", "endorser_email")
    # Newest submitted first, drafts last: the order of an index, so a page costs the same
    # however many applications the hub has (ordering through the course sorted all of them).
    ordering = (F("submitted_at").desc(nulls_last=True),)
    fieldsets = (
        ("Applicant", {"fields": ("user", "full_name", "trn", "date_of_birth")}),
        ("Where they work", {"fields": ("workplace_name", "institution", "work_setting", "role")}),
        (
            "Course and decision",
            {"fields": ("cohort", "course", "status_words", "decision_reason", "participant")},
        ),
        ("Funding", {"fields": ("funding_outcome", "funded_place_words", "payment", "funding_facts")}),
        ("Endorser and mentor", {"fields": ("endorser_name", "endorser_email", "mentor", "support")}),
        ("Dates", {"fields": ("started_at", "submitted_at")}),
    )
    readonly_fields = tuple(name for _, section in fieldsets for name in section["fields"])
    inlines = (EndorsementInline, TransitionInline, FundedPlaceChangeInline)
    actions = (export_as_csv, "accept_selected", "waitlist_selected")
    change_form_template = "admin/applications/application/change_form.html"
    change_list_template = "admin/applications/application/change_list.html"
    csv_columns = (
        ("Reference", "reference"),
        ("Email", "user.email"),
        ("Name", "full_name"),
        ("TRN", "trn"),
        ("Programme", "course.programme.code"),
        ("Cohort", "cohort.identifier"),
        ("Status", "status"),
        ("Waiting list", "waitlist_position"),
        ("Funded", "funding_decision.effective_funded"),
        ("Funding reason", "funding_decision.effective_reason"),
        ("Submitted", "submitted_at"),
    )

    @admin.display(description="Reference", ordering="pk")
    def reference(self, obj: Application) -> str:
        return f"NPQ-{obj.pk:06d}"

    @admin.display(description="Applicant", ordering="pk")
    def applicant(self, obj: Application) -> str:
        return format_html(
            '{}<br><span class="npq-quiet">{}</span>', obj.full_name or obj.user.email, self.reference(obj)
        )

    @admin.display(description="Status", ordering="status")
    def status_words(self, obj: Application) -> str:
        """The status, and under it any concern about the endorser's address (decision 19)."""
        label = obj.get_status_display()
        if obj.status == S.WAITLISTED and obj.waitlist_position:
            label = f"{label} ({_ordinal(obj.waitlist_position)})"
        if not getattr(obj, "endorser_address_concern", None):
            return label
        flagged = getattr(obj, "endorser_address_confirmed_at", None) is None
        return format_html(
            '{}<br><span class="npq-address{}">{}</span>',
            label,
            " npq-address--check" if flagged else "",
            address_summary(obj),
        )

    @admin.display(description="Funding")
    def funding(self, obj: Application) -> str:
        return reason_label(obj.funding_decision.effective_reason) if obj.funding_decision_id else "–"

    @admin.display(description="Submitted", ordering="submitted_at")
    def submitted(self, obj: Application) -> str:
        return _day(obj.submitted_at)

    @admin.display(description="Role")
    def role(self, obj: Application) -> str:
        return obj.answers.get("role") or "–"

    @admin.display(description="Work setting")
    def work_setting(self, obj: Application) -> str:
        answers = obj.answers
        setting = answers.get("work_setting")
        if not setting:
            return "–"
        words = WORK_SETTINGS.get(setting, setting.replace("_", " "))
        detail = KINDS_OF_NURSERY.get(answers.get("kind_of_nursery") or "") or EMPLOYMENT_TYPES.get(
            answers.get("employment_type") or ""
        )
        return f"{words}: {detail.lower()}" if detail else words

    @admin.display(description="Mentor")
    def mentor(self, obj: Application) -> str:
        name, email = obj.answers.get("mentor_name"), obj.answers.get("mentor_email")
        if not (name or email):
            return "–"
        return f"{name} ({email})" if name and email else name or email

    @admin.display(description="1:1 support requested")
    def support(self, obj: Application) -> str:
        return "Yes" if obj.support_requested else "No"

    @admin.display(description="Funding decision")
    def funding_outcome(self, obj: Application) -> str:
        decision = obj.funding_decision
        if decision is None:
            return "Not decided yet: funding is decided when the application is submitted."
        rows = [("Outcome", reason_label(decision.effective_reason))]
        if decision.effective_targeted_support_gbp:
            rows.append(("Targeted support funding", f"£{decision.effective_targeted_support_gbp}"))
        if decision.override_funded is not None:
            rows.append(("Automatic decision", reason_label(decision.reason)))
            rows.append(("Reason for deciding by policy", decision.override_reason))
        link = reverse("admin:funding_fundingdecision_change", args=[decision.pk])
        rows.append(("Decision", format_html('<a href="{}">Open the funding decision</a>', link)))
        return summary_list(rows, html_id="funding-outcome")

    @admin.display(description="Facts it was decided from")
    def funding_facts(self, obj: Application) -> str:
        if obj.funding_decision is None:
            return "–"
        return facts_summary(obj.funding_decision.facts, html_id="funding-facts")

    def get_ordering(self, request):
        # The waiting list is read in its order (a short list: sorting it costs nothing).
        if request.GET.get("status__exact") == S.WAITLISTED:
            return ("course_id", "waitlist_position")
        return super().get_ordering(request)

    def get_queryset(self, request):
        return with_address_checks(super().get_queryset(request))

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, extra_context={"title": "Applications", **(extra_context or {})}
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        application = (
            self.get_queryset(request).filter(pk=object_id).first()
            if object_id.isascii() and object_id.isdigit()
            else None
        )
        if application is not None:
            extra_context = {
                **(extra_context or {}),
                "address_check": application_check(application),
                "title": f"Application {self.reference(application)}",
                # Every field is read-only: decisions are the links above, never a Save button.
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
                "may_accept": staff_may(application, S.ACCEPTED),
                "may_reject": staff_may(application, S.REJECTED),
                "may_ask_again": application.status in ASK_AGAIN_STATUSES,
            }
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def _run(self, request, queryset, service, done: str, *, skip_unchecked: bool = False) -> None:
        succeeded = 0
        # The waiting list in its order first (the first in line is the one a place is held for).
        for application in queryset.order_by(
            F("waitlist_position").asc(nulls_last=True), "submitted_at", "pk"
        ):
            check = application_check(application) if skip_unchecked else None
            if check is not None and check.needs_checking:
                messages.error(
                    request,
                    f"NPQ-{application.pk:06d} was not accepted: the endorser's address needs checking "
                    f"({check.reason}). Open the application to confirm the "
                    "endorsement or ask for it again.",
                )
                continue
            try:
                service(application=application, by=request.user)
            except ApplicationError as exc:
                messages.error(request, f"NPQ-{application.pk:06d}: {exc}")
            else:
                succeeded += 1
        if succeeded:
            messages.success(request, f"{succeeded} application{'s' if succeeded != 1 else ''} {done}.")

    @admin.action(description="Accept selected applications (in order of submission)", permissions=["change"])
    def accept_selected(self, request, queryset):
        self._run(request, queryset, application_accept, "accepted", skip_unchecked=True)

    @admin.action(description="Put selected applications on the waiting list", permissions=["change"])
    def waitlist_selected(self, request, queryset):
        self._run(request, queryset, application_waitlist, "put on the waiting list")
