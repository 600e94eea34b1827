from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.my_work, name="my_work"),
    path("language/", views.set_language, name="set_language"),
]
