"""The unsubscribe page's route. sendethic/urls.py mounts it in the `campaigns` namespace under
/email/, where it always was: sent emails link there and the channel reverses
`campaigns:unsubscribe`."""

from django.urls import path

from stats import unsubscribe_views

urlpatterns = [
    path("u/<str:token>/", unsubscribe_views.unsubscribe, name="unsubscribe"),
]
