from django.urls import path

from records import views

app_name = "records"

urlpatterns = [
    path("", views.register, name="register"),
    path("retention/", views.retention_edit, name="retention_edit"),
    path("archives/", views.archive_create, name="archive_create"),
    path("archives/<int:pk>/", views.archive_job, name="archive_job"),
    path("archives/<int:pk>/retry/", views.archive_retry, name="archive_retry"),
    path("procedure/", views.procedure_map, name="procedure_map"),
]
