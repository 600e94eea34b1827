from django.urls import path

from delivery import views

urlpatterns = [
    path("", views.note_list, name="notes"),
    path("new/", views.note_create, name="note_create"),
    path("print/", views.print_notes, name="print"),
    path("print/<int:pk>/", views.print_job, name="print_job"),
    path("print/<int:pk>/pdf/", views.print_job_pdf, name="print_job_pdf"),
    path("print/<int:pk>/retry/", views.print_job_retry, name="print_job_retry"),
    path("notes/<str:number>/", views.note_detail, name="note"),
    path("notes/<str:number>/pdf/<str:layout>/", views.note_pdf, name="note_pdf"),
    path("notes/<str:number>/cancel/", views.note_cancel, name="note_cancel"),
    path("notes/<str:number>/sign-back/", views.note_signback, name="note_signback"),
    path("notes/<str:number>/incident/", views.note_incident, name="note_incident"),
    path("returns/", views.return_list, name="returns"),
    path("returns/line/<int:pk>/", views.return_add, name="return_add"),
    path("returns/<int:pk>/", views.return_detail, name="return"),
    path("returns/<int:pk>/memo/", views.return_memo, name="return_memo"),
    path("returns/<int:pk>/pick-up/", views.return_pick_up, name="return_pick_up"),
    path("returns/<int:pk>/close/", views.return_close, name="return_close"),
    path("returns/<int:pk>/replace/", views.return_replace, name="return_replace"),
    path("orders/<str:number>/", views.order_delivery, name="order"),
    path("lines/<int:pk>/batch/", views.batch_add, name="batch_add"),
    path("batches/<int:pk>/move/", views.batch_move, name="batch_move"),
    path("lines/<int:pk>/progress/", views.progress_save, name="progress"),
    path("lines/<int:pk>/delay/", views.delay_add, name="delay_add"),
    path("delays/<int:pk>/settle/", views.delay_settle, name="delay_settle"),
]
