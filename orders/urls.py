from django.urls import path

from orders import views, views_ack, views_drafts

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", views_drafts.order_create, name="create"),
    path("steps/<int:pk>/sign/", views.step_sign, name="step_sign"),
    path("steps/<int:pk>/object/", views.step_object, name="step_object"),
    path("objections/<int:pk>/settle/", views.objection_settle, name="objection_settle"),
    path("verbal/<int:pk>/confirm/", views.verbal_confirm, name="verbal_confirm"),
    path("acknowledgements/<int:pk>/resend/", views.acknowledgement_resend, name="ack_resend"),
    path("acknowledgements/<int:pk>/pdf/", views.acknowledgement_pdf, name="ack_pdf"),
    path("changes/<int:pk>/decide/", views.change_decide, name="change_decide"),
    path("memos/", views.memo_list, name="memos"),
    path("memos/<int:pk>/", views.memo_detail, name="memo"),
    path("memos/<int:pk>/acknowledge/", views.memo_acknowledge, name="memo_acknowledge"),
    path("memos/<int:pk>/pdf/", views.memo_pdf, name="memo_pdf"),
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/edit/", views_drafts.draft_edit, name="edit"),
    path("<str:number>/delete/", views_drafts.draft_delete, name="delete"),
    path("<str:number>/change/", views.order_change, name="change"),
    path("<str:number>/r<int:revision>/", views.order_revision, name="revision"),
    path("<str:number>/confirm/", views_ack.order_confirm, name="confirm"),
    path("<str:number>/confirm/preview.pdf", views_ack.preview_pdf, name="ack_preview"),
    path("<str:number>/submit/", views.order_submit, name="submit"),
    path("<str:number>/signoff/", views.head_signoff, name="signoff"),
    path("<str:number>/erp/", views.erp_number, name="erp"),
    path("<str:number>/verbal/", views.verbal_add, name="verbal_add"),
]
