from django.urls import path

from . import views

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("applications/<int:pk>/", views.detail, name="application_detail"),
    path("applications/<int:pk>/check", views.check, name="application_check"),
    path("applications/<int:pk>/submitted", views.submitted, name="application_submitted"),
    path("applications/<int:pk>/withdraw", views.withdraw, name="application_withdraw"),
    path("applications/<int:pk>/<slug:step>", views.step, name="application_step"),
    path("endorse/<str:token>/", views.endorsement, name="endorsement"),
    path("enrolments/<int:participant_pk>/new-employer", views.employment_change, name="employment_change"),
]
