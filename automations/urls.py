from django.urls import path

from automations import views

app_name = "automations"

urlpatterns = [
    path("", views.scenario_list_page, name="list"),
    path("recipe/", views.scenario_from_recipe_page, name="from_recipe"),
    path("contacts/<int:pk>/", views.contact_journeys_fragment, name="contact_journeys"),
    path("<int:pk>/", views.scenario_edit_page, name="edit"),
    path("<int:pk>/settings/", views.scenario_settings, name="settings"),
    path("<int:pk>/steps/", views.step_add, name="step_add"),
    path("<int:pk>/steps/<str:step_id>/<slug:change>/", views.step_change, name="step_change"),
    path("<int:pk>/<slug:action>/", views.scenario_action, name="action"),
]
