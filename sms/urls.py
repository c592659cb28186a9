from django.urls import path

from sms import views

app_name = "sms"

urlpatterns = [
    path("", views.campaign_list_page, name="list"),
    path("new/", views.campaign_edit_page, name="new"),
    path("estimate/", views.campaign_estimate, name="estimate"),
    path("outbox/", views.outbox_page, name="outbox"),
    path("<int:pk>/", views.campaign_edit_page, name="edit"),
    path("<int:pk>/<slug:action>/", views.campaign_action, name="action"),
]
