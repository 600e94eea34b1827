from django.urls import path

from customer_property import views

app_name = "customer_property"

urlpatterns = [
    path("", views.item_list, name="list"),
    path("new/", views.item_new, name="new"),
    path("<str:number>/", views.item_detail, name="detail"),
    path("<str:number>/check/", views.item_check, name="check"),
    path("<str:number>/incident/", views.item_incident, name="incident"),
    path("<str:number>/document/", views.item_document, name="document"),
    path("<str:number>/return/", views.item_return, name="return"),
    path("<str:number>/products/", views.item_products, name="products"),
    path("<str:number>/files/<int:pk>/", views.item_file, name="file"),
]
