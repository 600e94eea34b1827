from django.urls import path

from complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_new, name="new"),
    path("<str:number>/", views.complaint_detail, name="detail"),
    path("<str:number>/acknowledge/", views.complaint_acknowledge, name="acknowledge"),
    path("<str:number>/investigate/", views.complaint_investigate, name="investigate"),
    path("<str:number>/answer/", views.complaint_answer, name="answer"),
    path("<str:number>/close/", views.complaint_close, name="close"),
    path("<str:number>/attach/", views.complaint_attach, name="attach"),
    path("<str:number>/return/", views.complaint_return, name="return"),
    path("<str:number>/replacement/", views.complaint_replacement, name="replacement"),
    path("<str:number>/files/<int:pk>/", views.complaint_attachment, name="attachment"),
]
