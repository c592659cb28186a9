from django.urls import path

from connectors import views

app_name = "connectors"

urlpatterns = [
    path("", views.connection_list_page, name="list"),
    path("new/", views.connection_create_page, name="create"),
    path("<int:pk>/", views.connection_detail_page, name="detail"),
    path("<int:pk>/runs/", views.connection_runs_fragment, name="runs"),
    path("<int:pk>/test/", views.connection_test_page, name="test"),
    path("<int:pk>/run/", views.connection_run_page, name="run"),
    path("<int:pk>/pause/", views.connection_pause_page, name="pause"),
    path("<int:pk>/runs/<int:run_pk>/stop/", views.run_stop_page, name="stop"),
    path("hooks/<int:pk>/newsletter/", views.newsletter_add_hook, name="newsletter_add"),
]
