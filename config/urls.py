from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    # Browsers ask for /favicon.ico on pages without <link rel="icon"> (JSON,
    # files). Not permanent: the static file's hashed name changes with it.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("img/favicon.svg"))),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accounts.urls")),
    # Before the forum's: its questions/<pk>/<slug>/ would take questions/<pk>/claim/.
    path("", include("duty.urls")),
    path("", include("forum.urls")),
    path("", include("salon.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("moderation.urls")),
    path("", include("attachments.urls")),
    path("mdt/", include("mdt.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
