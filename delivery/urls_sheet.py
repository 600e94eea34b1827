from django.urls import path

from delivery import views_sheet

urlpatterns = [
    path("", views_sheet.sheet, name="sheet"),
    path("download/", views_sheet.sheet_download, name="sheet_download"),
    path("send/", views_sheet.sheet_send, name="sheet_send"),
    path("runs/<int:pk>/retry/", views_sheet.sheet_run_retry, name="sheet_run_retry"),
]
