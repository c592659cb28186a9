from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts.api_conventions import api_not_found
from apikeys.api import ApiKeyViewSet, CurrentAccountView
from automations.api import ScenarioViewSet
from campaigns import urls as campaigns_urls
from campaigns.api.campaigns import EmailCampaignViewSet
from campaigns.api.senders import DkimKeyViewSet, SenderAddressViewSet
from campaigns.api.templates import EmailTemplateViewSet
from connectors.api import AbandonedCartViewSet, ShopConnectionViewSet, SyncRunViewSet
from contacts.api.contacts import ContactViewSet
from contacts.api.exports import ContactExportViewSet
from contacts.api.fields import ContactFieldViewSet
from contacts.api.imports import ContactImportViewSet
from contacts.api.lists import ContactListViewSet
from contacts.api.segments import SegmentViewSet
from sendethic.views import SchemaView, robots_txt
from sms import link_views as sms_link_views
from sms.api import OutboxSmsViewSet, SmsCampaignViewSet, SmsEstimateView, SmsSenderViewSet
from sms.single_send_api import SmsSingleSendView
from stats import api as stats_api
from stats import urls_unsubscribe

router = SimpleRouter()
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("fields", ContactFieldViewSet, basename="field")
router.register("contacts", ContactViewSet, basename="contact")
router.register("lists", ContactListViewSet, basename="list")
router.register("imports", ContactImportViewSet, basename="import")
router.register("segments", SegmentViewSet, basename="segment")
router.register("senders", SenderAddressViewSet, basename="sender")
router.register("dkim-keys", DkimKeyViewSet, basename="dkim-key")
router.register("templates", EmailTemplateViewSet, basename="template")
router.register("campaigns/email", EmailCampaignViewSet, basename="email-campaign")
router.register("exports/contacts", ContactExportViewSet, basename="contact-export")
router.register("sms/senders", SmsSenderViewSet, basename="sms-sender")
router.register("campaigns/sms", SmsCampaignViewSet, basename="sms-campaign")
router.register("sms/outbox", OutboxSmsViewSet, basename="sms-outbox")
router.register("shop-connections", ShopConnectionViewSet, basename="shop-connection")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")
router.register("abandoned-carts", AbandonedCartViewSet, basename="abandoned-cart")
router.register("automations/scenarios", ScenarioViewSet, basename="scenario")

api_v1 = [
    path("account/", CurrentAccountView.as_view(), name="account"),
    path("sms/estimate/", SmsEstimateView.as_view(), name="sms-estimate"),
    path("sms/send/", SmsSingleSendView.as_view(), name="sms-send"),
    *router.urls,
    *stats_api.urls,
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    re_path(r"^api/", api_not_found),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api-keys/", include("apikeys.urls")),
    path("contacts/", include("contacts.urls")),
    # Provider webhooks first: they are not marketer pages (no login, signed by the provider).
    path("sms/hooks/", include("sms.hooks_urls")),
    path("sms/", include("sms.urls")),
    path("automations/", include("automations.urls")),
    path("connectors/", include("connectors.urls")),
    # The recipient's unsubscribe page is stats' (it records the opt-out) but keeps the address
    # and name the emails already sent use: /email/u/<token>/, `campaigns:unsubscribe`.
    path(
        "email/",
        include(
            ([*urls_unsubscribe.urlpatterns, *campaigns_urls.urlpatterns], campaigns_urls.app_name)
        ),
    ),
    # SMS short links: sms's own redirect, short since an SMS is billed by the character.
    path("t/s/<str:token>", sms_link_views.short_link, name="sms_short_link"),
    path("t/", include("stats.urls_tracking")),
    path("stats/", include("stats.urls")),
    path("anymail/", include("anymail.urls")),
    path("", include("accounts.urls")),
]
