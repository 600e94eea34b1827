from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.media import protected_media
from common.views import healthz
from satisfaction.public import survey_public

# The error pages are the app's own, with its navigation and in both languages (templates/403.html, 404.html,
# 500.html); Django's default handlers render the first two, the 500 one needs care (common.views.server_error).
handler500 = "common.views.server_error"

admin.site.site_header = settings.SITE_NAME
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:my_work", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("work/", include("accounts.urls")),
    path("customers/", include("customers.urls")),
    path("orders/", include("orders.urls")),
    path("delivery/", include("delivery.urls")),
    path("satisfaction/", include("satisfaction.urls")),
    path("complaints/", include("complaints.urls")),
    path("improvement/", include("improvement.urls")),
    path("samples/", include("samples.urls")),
    path("property/", include("customer_property.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("records/", include("records.urls")),
    # The customer's personal survey link: public, no login (satisfaction.public).
    path("s/<str:token>/", survey_public, name="survey_public"),
    path("admin/", admin.site.urls),
]

# Uploaded files only through the app, which checks who may see them (accounts.media), in development too.
urlpatterns += [path(settings.MEDIA_URL.lstrip("/") + "<path:path>", protected_media, name="media")]
