from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.contact_list_page, name="list"),
    path("new/", views.contact_create_page, name="create"),
    path("<int:pk>/", views.contact_detail_page, name="detail"),
    path("<int:pk>/erase/", views.contact_erase_page, name="erase"),
    path("<int:pk>/gdpr-export/", views.contact_gdpr_export_page, name="gdpr_export"),
    path("<int:pk>/double-optin/", views.contact_double_optin_page, name="double_optin"),
    path("<int:pk>/lists/", views.contact_membership_page, name="membership"),
    path("fields/", views.field_list_page, name="fields"),
    path("fields/<int:pk>/", views.field_edit_page, name="field_edit"),
    path("fields/<int:pk>/delete/", views.field_delete_page, name="field_delete"),
    path("lists/", views.list_list_page, name="lists"),
    path("lists/<int:pk>/", views.list_detail_page, name="list_detail"),
    path("lists/<int:pk>/delete/", views.list_delete_page, name="list_delete"),
    path("imports/", views.import_upload_page, name="import_upload"),
    path("imports/<int:pk>/mapping/", views.import_mapping_page, name="import_mapping"),
    path("imports/<int:pk>/", views.import_progress_page, name="import_progress"),
    path("imports/<int:pk>/errors.csv", views.import_errors_page, name="import_errors"),
    path("export/", views.export_page, name="export"),
    path("segments/", views.segment_list_page, name="segments"),
    path("segments/new/", views.segment_create_page, name="segment_create"),
    path("segments/preview/", views.segment_preview_page, name="segment_preview"),
    path("segments/<int:pk>/", views.segment_edit_page, name="segment_edit"),
    path("segments/<int:pk>/delete/", views.segment_delete_page, name="segment_delete"),
    path("confirm/<str:token>/", views.double_optin_confirm_page, name="double_optin_confirm"),
]
