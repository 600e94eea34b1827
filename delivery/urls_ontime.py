from django.urls import path

from delivery import views_ontime

urlpatterns = [
    path("", views_ontime.ontime_page, name="ontime"),
]
