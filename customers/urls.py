from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list_view, name="list"),
    path("new/", views.customer_edit, name="create"),
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_edit, name="product_create"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/view/", views.product_detail, name="product_detail"),
    path("quotations/<int:pk>/end/", views.quotation_end, name="quotation_end"),
    path("log/<int:pk>/done/", views.communication_done, name="communication_done"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("evaluations/<int:pk>/edit/", views.evaluation_edit, name="evaluation_edit"),
    path("evaluations/<int:pk>/form.pdf", views.evaluation_pdf, name="evaluation_pdf"),
    # Only these actions exist; any other word is a 404, never an error.
    *[
        path(
            f"evaluations/<int:pk>/{action}/", views.evaluation_action, {"action": action}, name=f"evaluation_{action}"
        )
        for action in views.EVALUATION_ACTIONS
    ],
    path("quality/<int:pk>/fix/", views.quality_problem_fix, name="quality_fix"),
    path("<str:code>/", views.customer_detail, name="detail"),
    path("<str:code>/quality/", views.quality_problem_add, name="quality_add"),
    path("<str:code>/edit/", views.customer_edit, name="edit"),
    path("<str:code>/quotations/", views.quotation_add, name="quotation_add"),
    path("<str:code>/environment/new/", views.envreq_edit, name="envreq_create"),
    path("<str:code>/environment/<int:pk>/", views.envreq_edit, name="envreq_edit"),
    path("<str:code>/log/", views.communication_add, name="communication_add"),
    path("<str:code>/evaluations/new/", views.evaluation_edit, name="evaluation_create"),
]
