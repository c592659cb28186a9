from django.urls import path

from contacts.views import contacts, exports, fields, imports, lists, segments

app_name = "contacts"

urlpatterns = [
    path("", contacts.contact_list_page, name="list"),
    path("new/", contacts.contact_create_page, name="create"),
    path("<int:pk>/", contacts.contact_detail_page, name="detail"),
    path("<int:pk>/erase/", contacts.contact_erase_page, name="erase"),
    path("<int:pk>/gdpr-export/", contacts.contact_gdpr_export_page, name="gdpr_export"),
    path("<int:pk>/double-optin/", contacts.contact_double_optin_page, name="double_optin"),
    path("<int:pk>/lists/", contacts.contact_membership_page, name="membership"),
    path("fields/", fields.field_list_page, name="fields"),
    path("fields/<int:pk>/", fields.field_edit_page, name="field_edit"),
    path("fields/<int:pk>/delete/", fields.field_delete_page, name="field_delete"),
    path("lists/", lists.list_list_page, name="lists"),
    path("lists/<int:pk>/", lists.list_detail_page, name="list_detail"),
    path("lists/<int:pk>/delete/", lists.list_delete_page, name="list_delete"),
    path("imports/", imports.import_upload_page, name="import_upload"),
    path("imports/<int:pk>/mapping/", imports.import_mapping_page, name="import_mapping"),
    path("imports/<int:pk>/", imports.import_progress_page, name="import_progress"),
    path("imports/<int:pk>/errors.csv", imports.import_errors_page, name="import_errors"),
    path("export/", exports.export_page, name="export"),
    path("segments/", segments.segment_list_page, name="segments"),
    path("segments/new/", segments.segment_create_page, name="segment_create"),
    path("segments/preview/", segments.segment_preview_page, name="segment_preview"),
    path("segments/<int:pk>/", segments.segment_edit_page, name="segment_edit"),
    path("segments/<int:pk>/delete/", segments.segment_delete_page, name="segment_delete"),
    path("confirm/<str:token>/", contacts.double_optin_confirm_page, name="double_optin_confirm"),
]
