from django.urls import path

from campaigns import views
from campaigns.editor import urls as editor_urls

# The namespace also holds `unsubscribe` (u/<token>/), served by stats: the project's URLconf
# (sendethic/urls.py) adds it, since campaigns never imports stats.
app_name = "campaigns"

urlpatterns = [
    *editor_urls.urlpatterns,
    path("m/<str:token>/", views.mirror, name="mirror"),
    path("senders/verify/<str:token>/", views.sender_verify, name="sender_verify"),
    path("", views.campaign_list_page, name="list"),
    path("new/", views.gallery_page, name="gallery"),
    path("templates/<int:pk>/delete/", views.template_delete_page, name="template_delete"),
    path("<int:pk>/", views.campaign_edit_page, name="edit"),
    path("<int:pk>/audience-count/", views.campaign_audience_count, name="audience_count"),
    path("<int:pk>/preview/", views.campaign_preview_page, name="preview"),
    path("<int:pk>/<slug:action>/", views.campaign_action_page, name="action"),
    path("senders/", views.senders_page, name="senders"),
    path("outbox/", views.outbox_page, name="outbox"),
    path("outbox/<int:pk>/", views.outbox_page, name="outbox_message"),
]
