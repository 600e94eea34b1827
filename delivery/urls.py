from django.urls import include, path

app_name = "delivery"

# Each part of delivery has its own URL module; they share the "delivery" namespace.
urlpatterns = [
    path("", include("delivery.urls_records")),
    path("", include("delivery.urls_notes")),
    path("sheet/", include("delivery.urls_sheet")),
    path("on-time/", include("delivery.urls_ontime")),
]
