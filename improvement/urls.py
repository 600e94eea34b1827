from django.urls import path

from improvement import views_actions, views_report, views_review

app_name = "improvement"

urlpatterns = [
    path("", views_actions.home, name="home"),
    # The satisfaction analysis report (§5.12.5): views_report.py
    path("rounds/<int:round_pk>/report/new/", views_report.report_new, name="report_new"),
    path("reports/<int:pk>/", views_report.report_detail, name="report"),
    path("reports/<int:pk>/edit/", views_report.report_edit, name="report_edit"),
    path("reports/<int:pk>/submit/", views_report.report_submit, name="report_submit"),
    path("reports/<int:pk>/confirm/", views_report.report_confirm, name="report_confirm"),
    path("reports/<int:pk>/return/", views_report.report_return, name="report_return"),
    path("reports/<int:pk>/correct/", views_report.report_correct, name="report_correct"),
    path("reports/<int:pk>/report.pdf", views_report.report_pdf, name="report_pdf"),
    path("reports/<int:pk>/charts/<str:name>.svg", views_report.report_chart, name="report_chart"),
    # The improvement meeting and corrective actions (§5.12.6): views_actions.py
    path("meetings/", views_actions.meeting_list, name="meetings"),
    path("meetings/new/", views_actions.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views_actions.meeting_detail, name="meeting"),
    path("actions/", views_actions.action_list, name="actions"),
    path("actions/new/", views_actions.action_new, name="action_new"),
    path("actions/<str:number>/", views_actions.action_detail, name="action"),
    path("actions/<str:number>/done/", views_actions.action_done, name="action_done"),
    path("actions/<str:number>/verify/", views_actions.action_verify, name="action_verify"),
    # The management review pack (§5.12.7): views_review.py
    path("reviews/", views_review.review_list, name="reviews"),
    path("reviews/new/", views_review.review_new, name="review_new"),
    path("reviews/<int:pk>/", views_review.review_detail, name="review"),
    path("reviews/<int:pk>/record/", views_review.review_record, name="review_record"),
    path("reviews/<int:pk>/pack.pdf", views_review.review_pdf, name="review_pdf"),
    path("reviews/<int:pk>/pack.xlsx", views_review.review_xlsx, name="review_xlsx"),
]
