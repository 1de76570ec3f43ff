from django.urls import path

from . import views

urlpatterns = [
    path("privacy/", views.privacy_notice, name="privacy_notice"),
    path("your-data/", views.your_data, name="privacy_your_data"),
    path("your-data/copies/<int:pk>/download", views.export_download, name="privacy_export_download"),
]
