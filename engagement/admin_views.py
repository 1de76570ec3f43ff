"""Engagement's admin pages that are not a model's list or form: the register, the LMS import,
a course's engagement and a group's grid.

Each fetches its object through the ModelAdmin's scoped queryset (404 outside the user's
scope), checks the model permission, and calls a service or selector.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext
from django.views.generic import FormView, TemplateView

from common.csv_export import csv_response
from programmes.admin_views import AdminPageMixin
from programmes.models import Group, Participant
from programmes.selectors import visible_to
from programmes.services import EnrolmentError

from .charts import histogram_bars, histogram_svg
from .models import Activity, Attendance, Register
from .selectors import register_roster
from .services import REGISTER_MARKS, register_save
from .tally import state_label


class RegisterForm(forms.Form):
    """One radio field per participant on the register."""

    def __init__(self, *args: Any, roster: list[Participant], current: dict[int, str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [(mark.value, mark.label.split(" (")[0]) for mark in REGISTER_MARKS]
        self.roster = roster
        for participant in roster:
            self.fields[f"p{participant.pk}"] = forms.ChoiceField(
                label=participant.user.get_full_name(),
                choices=choices,
                widget=forms.RadioSelect,
                required=True,
                initial=current.get(participant.pk),
                error_messages={
                    "required": f"Mark {participant.user.get_full_name()} as attended, absent or excused."
                },
            )

    def marks(self) -> dict[int, str]:
        return {int(name[1:]): value for name, value in self.cleaned_data.items()}

    def rows(self):
        return [(participant, self[f"p{participant.pk}"]) for participant in self.roster]


class RegisterView(AdminPageMixin, FormView):
    template_name = "admin/engagement/activity/register.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.activity = get_object_or_404(
            self.model_admin.get_queryset(request).select_related(
                "course__programme", "course__cohort", "group"
            ),
            pk=kwargs["activity_id"],
        )
        if not request.user.has_perm("engagement.change_attendance"):
            raise PermissionDenied
        self.roster = list(register_roster(activity=self.activity, user=request.user))
        return super().dispatch(request, *args, **kwargs)

    def mark_all(self) -> bool:
        """ "Mark everyone attended" (a GET button, no script): the form opens with every row
        attended; staff change the exceptions and save. Nothing is saved until then."""
        return self.request.method == "GET" and self.request.GET.get("mark_all") == "attended"

    def get_form_kwargs(self) -> dict[str, Any]:
        if self.mark_all():
            current = {p.pk: Attendance.Status.ATTENDED.value for p in self.roster}
        else:
            current = dict(
                Attendance.objects.filter(activity=self.activity).values_list("participant_id", "status")
            )
        return {**super().get_form_kwargs(), "roster": self.roster, "current": current}

    def get_form_class(self):
        return RegisterForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            **self.admin_context(f"Register: {self.activity.title}"),
            "activity": self.activity,
            "marked_all": self.mark_all(),
            "registers": list(
                Register.objects.filter(
                    activity=self.activity, group_id__in={p.group_id for p in self.roster}
                ).select_related("group", "taken_by")
            ),
        }

    def form_valid(self, form: RegisterForm) -> HttpResponse:
        try:
            saved = register_save(
                activity=self.activity,
                marks=form.marks(),
                by=self.request.user,
                roster={p.pk for p in self.roster},
            )
        except EnrolmentError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(
            self.request,
            ngettext(
                "Register saved: %d participant marked.", "Register saved: %d participants marked.", saved
            )
            % saved,
        )
        return redirect(reverse("admin:engagement_activity_register", args=[self.activity.pk]))


class LmsImportForm(forms.Form):
    file = forms.FileField(
        label="LMS completion export (CSV)",
        help_text="Columns: participant (email or TRN), activity_code, completed_at.",
    )

    def clean_file(self) -> Any:
        # The file is read whole (one transaction, every row resolved at once): bounded, so that
        # no upload can take the worker's memory. 100,000 rows are about 5 MB.
        upload = self.cleaned_data["file"]
        largest = settings.LMS_IMPORT_MAX_MB * 1024 * 1024
        if upload.size > largest:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB: the largest this page takes is "
                f"{settings.LMS_IMPORT_MAX_MB} MB. Export fewer weeks at a time, or split the file."
            )
        return upload


class LmsImportView(AdminPageMixin, FormView):
    template_name = "admin/engagement/activity/lms_import.html"
    form_class = LmsImportForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("engagement.change_attendance"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **self.admin_context("Import LMS completions")}

    def form_valid(self, form: LmsImportForm) -> HttpResponse:
        from common.csv_files import MalformedFile

        from .lms_import import import_lms_completions

        user = self.request.user
        try:
            outcome = import_lms_completions(
                form.cleaned_data["file"].read(settings.LMS_IMPORT_MAX_MB * 1024 * 1024 + 1),
                participants=visible_to(Participant.objects.all(), user),
                activities=visible_to(Activity.objects.all(), user),
                by=user,
            )
        except MalformedFile as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        return self.render_to_response(self.get_context_data(form=self.form_class(), outcome=outcome))


class CourseEngagementView(AdminPageMixin, TemplateView):
    """At-risk participants of a course, the records awaited and the spread of engagement in each
    group, each list a page at a time (decisions.md, 42): the same queries, and a page of about
    the same size, for a course of 20 or of 20,000."""

    template_name = "admin/engagement/course/engagement.html"
    at_risk_per_page = 50
    awaiting_per_page = 50
    groups_per_page = 20

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from programmes.staff_scope import request_scope, visible_in_request

        from .selectors import AwaitingRecords, course_engagement
        from .tally import ENGAGEMENT_BAR, TASK_RECORD_DAYS

        course = get_object_or_404(
            self.model_admin.get_queryset(self.request).select_related("programme", "cohort"),
            pk=kwargs["course_id"],
        )
        # The course's hub administrators see all of its participants: no list of them to match.
        scope = request_scope(self.request)
        if self.request.user.is_superuser or course.cohort.hub_id in scope.hub_ids:
            participants = None
        else:
            participants = visible_in_request(Participant.objects.filter(course=course), self.request)
        data = course_engagement(course=course, participants=participants)
        paginator = _CountedPaginator(
            data.pop("at_risk"), self.at_risk_per_page, count=data.pop("at_risk_count")
        )
        page = paginator.get_page(self.request.GET.get("page"))  # anything else: the first or last page
        # Each group's id and name only (a course may have hundreds): rows, not model instances.
        groups = list(
            visible_in_request(Group.objects.filter(course=course), self.request)
            .order_by("name")
            .values_list("pk", "name", named=True)
        )

        # Each group the user sees (and the participants without one, if any are tallied), with
        # its spread of engagement if any is counted: a page of them, each with its chart.
        spread = dict(data["groups"])
        by_name = {g.name: g for g in groups}
        entries = sorted(
            [(g.name, g, spread.get(g.name)) for g in groups]
            + [(name, None, counts) for name, counts in spread.items() if name not in by_name],
            key=lambda entry: entry[0],
        )
        group_paginator = Paginator(entries, self.groups_per_page)
        group_page = group_paginator.get_page(self.request.GET.get("groups_page"))
        charts = [
            (name, bars, histogram_svg(name, bars))
            for name, bars in ((name, histogram_bars(counts)) for name, _, counts in group_page if counts)
        ]

        awaited = AwaitingRecords(course_id=course.pk, groups=groups, all_groups=participants is None)
        awaiting_page = _page_with_count(
            awaited, self.request.GET.get("awaiting_page"), self.awaiting_per_page
        )
        awaiting_paginator = awaiting_page.paginator
        # Each activity of the page with the names of the groups waiting for its record.
        awaiting = [(activity, ", ".join(g.name for g in waiting)) for activity, waiting in awaiting_page]
        # Links and dates of the rows below made here, not by {% url %} and |date in template
        # loops (which took most of the page's time when a page held every row).
        register_url = _url_maker("admin:engagement_activity_register")
        grid_url = _url_maker("admin:programmes_group_grid")
        when = _when_maker()
        svg_of = {name: svg for name, _, svg in charts}
        return {
            **super().get_context_data(**kwargs),
            **self.admin_context(f"Engagement: {course}"),
            "course": course,
            "charts": charts,
            "bar": ENGAGEMENT_BAR,
            **data,
            "at_risk": list(page.object_list),
            "at_risk_page": page,
            "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
            "groups": groups,
            "group_page": group_page,
            "group_page_range": group_paginator.get_elided_page_range(
                group_page.number, on_each_side=1, on_ends=1
            ),
            "group_keep": _other_parameters(self.request, "groups_page"),
            # Only names and titles are text from people (escaped); links and dates are ours.
            "chart_figures": _html(
                '\n<figure class="engagement-chart" style="display:inline-block;vertical-align:top;'
                'box-sizing:border-box;width:412px;max-width:100%;margin:0 0 1em;padding-right:2em">\n'
                f"  <figcaption><strong>{escape(name)}</strong>"
                + (
                    f' &middot; <a href="{grid_url(group.pk)}">Grid<span class="visually-hidden"> of {escape(name)}</span></a>'
                    if group
                    else ""
                )
                + "</figcaption>\n  "
                + (svg_of[name] if counts else "<p>No engagement counted yet.</p>")
                + "\n</figure>\n"
                for name, group, counts in group_page
            ),
            "awaiting": awaiting,
            "awaiting_page": awaiting_page,
            "awaiting_page_range": awaiting_paginator.get_elided_page_range(
                awaiting_page.number, on_each_side=1, on_ends=1
            ),
            "awaiting_keep": _other_parameters(self.request, "awaiting_page"),
            "awaiting_rows": _html(
                f'<tr><th scope="row">{escape(activity.title)}</th><td>{escape(when(activity))}</td>'
                f"<td>{escape(waiting)}</td>"
                f'<td><a href="{register_url(activity.pk)}">Take register</a></td></tr>'
                for activity, waiting in awaiting
            ),
            "at_risk_keep": _other_parameters(self.request, "page"),
            "task_record_days": TASK_RECORD_DAYS,
        }


def _page_with_count(rows: Any, asked: str | None, per_page: int) -> Page:
    """The page ``asked`` of ``rows`` (an ``AwaitingRecords``) with the count of all of them, read
    in one query. A number that names no page gets what ``Paginator.get_page`` gives it (the
    first or the last page), at the cost of a count."""
    try:
        number = 1 if asked is None else int(asked)
    except ValueError:
        number = 1
    if 1 <= number <= 1_000_000:  # beyond, no list has that page (and the offset would overflow)
        found, total = rows.page_and_count(offset=(number - 1) * per_page, limit=per_page)
        if total is not None:
            return Page(found, number, _CountedPaginator(rows, per_page, count=total))
    return Paginator(rows, per_page).get_page(asked)


def _other_parameters(request: HttpRequest, name: str) -> str:
    """The page's other query parameters, to keep in the links of one list's pages (each list
    of the page has its own page number): "a=1&b=2&", or empty."""
    kept = request.GET.copy()
    kept.pop(name, None)
    return f"{kept.urlencode()}&" if kept else ""


def _html(pieces: Any) -> str:
    """Pieces of HTML made with every text from people escaped, joined as safe HTML."""
    return mark_safe("".join(pieces))  # noqa: S308 - callers escape what they put in


class _CountedPaginator(Paginator):
    """A paginator told its number of items (counted with the page's other figures), so it does
    not count them again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


def _url_maker(name: str) -> Any:
    """A function from a primary key to the URL ``name`` takes it in: reversed once, the key
    put in by replacing a placeholder (reversing for each of thousands of rows was slow)."""
    placeholder = "2147483647"
    url = reverse(name, args=[int(placeholder)])
    head, tail = url.split(placeholder)
    return lambda pk: f"{head}{int(pk)}{tail}"


def _when_maker() -> Any:
    """A function giving an activity's date as the engagement page shows it (its start, or when
    it is due), each distinct date formatted once: a course's groups share their dates."""
    from functools import cache

    from django.template.defaultfilters import date as date_filter
    from django.utils.timezone import template_localtime

    @cache
    def when(starts_at: Any, due_on: Any) -> str:
        if starts_at:
            return date_filter(template_localtime(starts_at), "j M Y H:i")
        return f"due {date_filter(due_on, 'j M Y')}"

    return lambda activity: when(activity.starts_at, activity.due_on)


class GroupGridView(AdminPageMixin, TemplateView):
    """Participants x activities of a group, on screen or as CSV: attended, completed, missed,
    excused or awaiting record (blank: not due yet), as the participant sees them."""

    template_name = "admin/engagement/group/grid.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from .selectors import group_grid

        self.group = get_object_or_404(
            self.model_admin.get_queryset(request).select_related("course__programme", "course__cohort"),
            pk=kwargs["group_id"],
        )
        self.activities, self.rows = group_grid(group=self.group)
        if request.GET.get("format") == "csv":
            return self._csv()
        return super().get(request, *args, **kwargs)

    def _csv(self) -> HttpResponse:
        return csv_response(
            f"engagement-{self.group.pk}.csv",
            ["Email", "Name", "TRN", "Engagement %", *[f"{a.title} ({a.code})" for a in self.activities]],
            (
                [
                    participant.user.email,
                    participant.user.get_full_name(),
                    participant.trn,
                    None if tally is None else tally.percent,
                    *[state_label(mark, state) for mark, state in cells],
                ]
                for participant, cells, tally in self.rows
            ),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            **self.admin_context(f"Engagement grid: {self.group}"),
            "group": self.group,
            "activities": self.activities,
            "rows": [
                (participant, [(state, state_label(mark, state)) for mark, state in cells], tally)
                for participant, cells, tally in self.rows
            ],
        }
