from django.urls import path

from stats import views

app_name = "stats"

urlpatterns = [
    path("", views.dashboard_page, name="dashboard"),
    path("summary/", views.dashboard_summary_page, name="dashboard_summary"),
    path("campaigns/<int:pk>/", views.campaign_report_page, name="campaign_report"),
    path(
        "campaigns/<int:pk>/report.csv",
        views.campaign_report_export_page,
        name="campaign_report_export",
    ),
    path("contacts/<int:pk>/", views.contact_activity_page, name="contact_activity"),
]
