from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("m/<str:token>/", views.mirror, name="mirror"),
    path("senders/verify/<str:token>/", views.sender_verify, name="sender_verify"),
]
