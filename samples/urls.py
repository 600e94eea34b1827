from django.urls import path

from samples import views

app_name = "samples"

urlpatterns = [
    path("", views.sample_list, name="list"),
    path("new/", views.request_create, name="create"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/cancel/", views.request_cancel, name="cancel"),
    path("<int:pk>/note/", views.note_create, name="note_create"),
    path("<int:pk>/verdict/", views.verdict_create, name="verdict"),
    path("notes/<str:number>/", views.note_detail, name="note"),
    path("notes/<str:number>/pdf/<str:layout>/", views.note_pdf, name="note_pdf"),
    path("notes/<str:number>/receipt/", views.note_receipt, name="note_receipt"),
    path("notes/<str:number>/cancel/", views.note_cancel, name="note_cancel"),
]
