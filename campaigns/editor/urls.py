"""The block editor's routes, in the `campaigns` namespace (campaigns/urls.py lists them first:
`<int:pk>/<slug:action>/` would otherwise take `<pk>/editor/`)."""

from django.urls import path

from campaigns.editor import views

urlpatterns = [
    path("editor/images/", views.editor_image_upload, name="editor_image_upload"),
    path("editor/images/<path:name>", views.editor_image, name="editor_image"),
    path("editor/preview/", views.editor_preview, name="editor_preview"),
    path(
        "editor/saved-sections/",
        views.editor_saved_section_create,
        name="editor_saved_sections",
    ),
    path(
        "editor/saved-sections/<int:pk>/delete/",
        views.editor_saved_section_delete,
        name="editor_saved_section_delete",
    ),
    path("templates/editor/", views.template_editor_page, name="template_editor_new"),
    path("templates/editor/save/", views.template_editor_save, name="template_editor_create"),
    path("templates/<int:pk>/editor/", views.template_editor_page, name="template_editor"),
    path(
        "templates/<int:pk>/editor/save/", views.template_editor_save, name="template_editor_save"
    ),
    path("<int:pk>/editor/", views.campaign_editor_page, name="campaign_editor"),
    path("<int:pk>/editor/save/", views.campaign_editor_save, name="campaign_editor_save"),
    path(
        "<int:pk>/editor/send-test/",
        views.campaign_editor_send_test,
        name="campaign_editor_send_test",
    ),
]
