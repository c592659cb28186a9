from django.urls import path

from apikeys import views

app_name = "apikeys"

urlpatterns = [
    path("", views.api_key_list, name="list"),
    path("<int:pk>/revoke/", views.api_key_revoke_view, name="revoke"),
]
