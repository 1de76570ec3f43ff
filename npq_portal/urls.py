from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from accounts import views as account_views
from assessment import views as assessment_views
from engagement import views as engagement_views
from funding import views as funding_views
from notifications import views as notification_views

from . import health, views

admin.site.site_header = "NPQ Portal administration"
admin.site.site_title = "NPQ Portal admin"
admin.site.index_title = "Run your NPQ cohorts"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("status", views.status, name="status"),
    path("accounts/", include("allauth.urls")),
    path("", include("applications.urls")),
    path("", include("privacy.urls")),
    path("check-funding/", funding_views.start, name="funding_check"),
    path("check-funding/result", funding_views.result, name="funding_check_result"),
    path("check-funding/<slug:step>", funding_views.question, name="funding_check_step"),
    path("enrolments/<int:pk>/", engagement_views.enrolment, name="enrolment"),
    path("enrolments/<int:pk>/check-ins/new", engagement_views.checkin_new, name="checkin_new"),
    path("check-ins/confirm/<str:token>/", engagement_views.checkin_confirm_page, name="checkin_confirm"),
    path("reminders/", notification_views.my_notifications, name="my_notifications"),
    path(
        "enrolments/<int:pk>/assessment",
        assessment_views.participant_assessment,
        name="participant_assessment",
    ),
    path("marking/", assessment_views.marking_list, name="marking_list"),
    path("marking/<int:assignment_id>/", assessment_views.marking_script, name="marking_script"),
    path(
        "marking/<int:assignment_id>/response", assessment_views.response_file, name="marking_response_file"
    ),
    path(
        "enrolments/<int:pk>/assessment/case-study", assessment_views.case_study_file, name="case_study_file"
    ),
    path(
        "enrolments/<int:pk>/assessment/response",
        assessment_views.own_response_file,
        name="participant_response_file",
    ),
    path("calendar/", engagement_views.calendar_page, name="calendar"),
    path("calendar/new-address", engagement_views.calendar_rotate, name="calendar_rotate"),
    path("calendar/<str:token>.ics", engagement_views.calendar_feed, name="calendar_feed"),
    # Bookmarks of the activity and attendance admin from before engagement moved out of
    # programmes (decisions.md, 41).
    re_path(
        r"^admin/programmes/(?P<model>activity|attendance)/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/engagement/%(model)s/%(rest)s", permanent=True, query_string=True),
    ),
    # Before admin.site.urls: the admin's own sign-in page is replaced by the portal's.
    path("admin/login/", account_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

handler404 = "npq_portal.views.page_not_found"
handler500 = "npq_portal.views.server_error"
