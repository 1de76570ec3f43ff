"""Hub decisions in admin: the queue of endorsed applications, accept / waitlist / reject."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from funding.admin import facts_summary, summary_list
from funding.wording import EMPLOYMENT_TYPES, KINDS_OF_NURSERY, WORK_SETTINGS, reason_label
from npq_portal.admin_accessibility import LabelledTabularInline
from programmes.admin import HubScopedAdmin, export_as_csv, scoped_filter
from programmes.models import Group
from programmes.selectors import register_scope, visible_to

from .endorsement_checks import address_summary, application_check, current_endorsement, with_address_checks
from .funded_place_admin import FundedPlaceAdminMixin, FundedPlaceChangeInline, funded_place_choice
from .funded_places import funded_places_summary
from .models import Application, Endorsement, Transition
from .selectors import status_phrase
from .services import (
    ASK_AGAIN_STATUSES,
    TRANSITIONS,
    ApplicationError,
    OutOfTurnReasonNeeded,
    accept_needs_out_of_turn_reason,
    application_accept,
    application_reject,
    application_waitlist,
    endorsement_domain_confirm,
    endorsement_request_again,
)

register_scope(Application, hub_path="cohort__hub")


class ApplicationHistoryInline(LabelledTabularInline):
    """Read-only history on the application's page, for whoever may view the application (hub
    staff hold no permissions on these models of their own)."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("applications.view_application")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TransitionInline(ApplicationHistoryInline):
    model = Transition
    verbose_name_plural = "status history"
    fields = ("from_status", "to_status", "by", "at", "note")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class EndorsementInline(ApplicationHistoryInline):
    model = Endorsement
    verbose_name_plural = "endorsement requests"
    fields = ("kind", "endorser", "address_check", "sent", "link", "answer")
    readonly_fields = fields

    def get_queryset(self, request):
        # The row's name reads the application, its user, course and cohort.
        return (
            super()
            .get_queryset(request)
            .select_related(
                "domain_confirmed_by",
                "application__user",
                "application__course__programme",
                "application__cohort",
            )
        )

    @admin.display(description="Endorser")
    def endorser(self, obj: Endorsement) -> str:
        return format_html("{}<br>{}", obj.endorser_name, obj.endorser_email)

    @admin.display(description="Address check")
    def address_check(self, obj: Endorsement) -> str:
        if not obj.domain_concern:
            return "No concern"
        words = obj.get_domain_concern_display()
        if obj.domain_confirmed_at:
            return format_html(
                "{}<br>Confirmed by {} on {}",
                words,
                obj.domain_confirmed_by or "a member of staff",
                _day(obj.domain_confirmed_at),
            )
        return format_html("{}<br><strong>Not checked yet</strong>", words)

    @admin.display(description="Sent")
    def sent(self, obj: Endorsement) -> str:
        return _day(obj.sent_at)

    @admin.display(description="Link")
    def link(self, obj: Endorsement) -> str:
        if obj.replaced_at:
            return f"Replaced on {_day(obj.replaced_at)}"
        if obj.used_at:
            return f"Used on {_day(obj.used_at)}"
        return f"Works until {_day(obj.expires_at)}"

    @admin.display(description="Answer")
    def answer(self, obj: Endorsement) -> str:
        if not obj.decision:
            return "Not answered"
        if obj.reason:
            return format_html("{}: {}", obj.get_decision_display(), obj.reason)
        return obj.get_decision_display()


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y") if moment else "–"


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Reason (the applicant sees this)"
    )


class AskAgainForm(forms.Form):
    name = forms.CharField(label="Endorser's full name", max_length=200)
    email = forms.EmailField(
        label="Endorser's email address",
        help_text="Their school or work address. The earlier link stops working at once.",
    )


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


class AcceptForm(forms.Form):
    funded_place = funded_place_choice()
    group = forms.ModelChoiceField(
        queryset=Group.objects.none(),
        required=False,
        help_text="Leave empty to use the first group with a free place.",
    )
    out_of_turn_reason = forms.CharField(
        label="Reason for accepting out of turn",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="People are on the waiting list ahead of this application, and free places are "
        "held for them in turn. Say why this application should be accepted first.",
    )


S = Application.Status


def staff_may(application: Application, to: str) -> bool:
    """Whether the state machine lets the application become ``to`` (staff see only the
    actions that can succeed)."""
    return to in TRANSITIONS[Application.Status(application.status)]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@admin.register(Application)
class ApplicationAdmin(FundedPlaceAdminMixin, HubScopedAdmin):
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

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/accept/", view(self.accept_view), name="applications_application_accept"),
            path("<int:pk>/reject/", view(self.reject_view), name="applications_application_reject"),
            path(
                "<int:pk>/endorsement/confirm/",
                view(self.confirm_endorser_view),
                name="applications_application_confirm_endorser",
            ),
            path(
                "<int:pk>/endorsement/ask-again/",
                view(self.ask_again_view),
                name="applications_application_ask_again",
            ),
            *super().get_urls(),
        ]

    def _object(self, request: HttpRequest, pk: int) -> Application:
        from django.shortcuts import get_object_or_404

        application = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, application):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return application

    def _refusal(self, request, application, to: str, label: str) -> HttpResponse | None:
        """The page without a form when the state machine would refuse the change anyway."""
        if staff_may(application, to):
            return None
        verb = "accepted" if to == S.ACCEPTED else "rejected"
        blocked = (
            f"Only an endorsed application, or one on the waiting list, can be {verb}. "
            f"This one {status_phrase(application.status)}."
        )
        return self._page(request, application, None, label, blocked=blocked)

    def accept_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        if refusal := self._refusal(request, application, S.ACCEPTED, "Accept"):
            return refusal
        form = AcceptForm(request.POST or None)
        form.fields["group"].queryset = visible_to(
            Group.objects.filter(course_id=application.course_id), request.user
        ).select_related("course__programme", "course__cohort")  # each choice's label
        if accept_needs_out_of_turn_reason(application) is None:
            del form.fields["out_of_turn_reason"]
        form.fields["funded_place"].help_text = funded_places_summary(application)
        if request.method == "POST" and form.is_valid():
            try:
                application_accept(
                    application=application,
                    by=request.user,
                    group=form.cleaned_data["group"],
                    out_of_turn_reason=form.cleaned_data.get("out_of_turn_reason", ""),
                    funded_place=form.cleaned_data.get("funded_place"),
                )
            except OutOfTurnReasonNeeded as exc:  # said next to the field that answers it
                form.add_error(
                    "out_of_turn_reason" if "out_of_turn_reason" in form.fields else None, str(exc)
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"NPQ-{application.pk:06d} accepted.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Accept")

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        if refusal := self._refusal(request, application, S.REJECTED, "Reject"):
            return refusal
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                application_reject(
                    application=application, by=request.user, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"NPQ-{application.pk:06d} not accepted.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Reject")

    def confirm_endorser_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Staff checked with the school that the address is the endorser's."""
        application = self._object(request, pk)
        form = forms.Form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            endorsement = current_endorsement(application)
            try:
                if endorsement is None:
                    raise ApplicationError("This application has no endorsement request to confirm.")
                endorsement_domain_confirm(endorsement=endorsement, by=request.user)
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"You confirmed {endorsement.endorser_email} as the endorser.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Confirm the endorser")

    def ask_again_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        form = AskAgainForm(
            request.POST or None,
            initial={"name": application.endorser_name, "email": application.endorser_email},
        )
        if request.method == "POST" and form.is_valid():
            try:
                endorsement = endorsement_request_again(
                    application=application,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    by=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"We have emailed {endorsement.endorser_email} a new link. The earlier link no longer works.",
                )
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Ask for the endorsement again")

    def _page(self, request, application, form, label, *, blocked: str = "") -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": application,
            "title": f"{label}: NPQ-{application.pk:06d}",
            "form": form,
            "action_label": label,
            "address_check": application_check(application),
            "blocked": blocked,
        }
        return TemplateResponse(request, "admin/applications/application/decision.html", context)
