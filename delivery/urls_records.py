from django.urls import path

from delivery import views_records as views

urlpatterns = [
    path("carriers/", views.carrier_list, name="carriers"),
    path("carriers/add/<str:kind>/", views.carrier_edit, name="carrier_add"),
    path("carriers/<str:kind>/<int:pk>/", views.carrier_edit, name="carrier_edit"),
    path("carriers/<str:kind>/<int:pk>/retire/", views.carrier_retire, name="carrier_retire"),
    path("dispatch/<str:number>/pdf/<str:layout>/", views.dispatch_pdf, name="dispatch_pdf"),
    path("notes/<str:number>/customs/<str:key>/", views.export_item, name="export_item"),
    path("notes/<str:number>/transfer/", views.note_transfer, name="note_transfer"),
    path("reports/", views.reports, name="reports"),
]
