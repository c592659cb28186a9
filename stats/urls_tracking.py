"""Public tracking endpoints reached from sent emails (no login, no CSRF, no session)."""

from django.urls import path

from stats import tracking_views

app_name = "tracking"

urlpatterns = [
    path("c/<str:token>", tracking_views.click, name="click"),
    path("o/<str:token>.gif", tracking_views.open_pixel, name="open"),
]
