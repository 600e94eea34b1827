from django.urls import path

from satisfaction import views, views_records

app_name = "satisfaction"

urlpatterns = [
    # Rounds (views.py)
    path("", views.round_list, name="rounds"),
    path("rounds/new/", views.round_new_ad_hoc, name="round_new"),
    path("rounds/half-year/", views.round_open_half_year, name="round_open_half_year"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/progress/", views.round_progress, name="round_progress"),
    path("rounds/<int:pk>/list/", views.round_list_customers, name="round_customers"),
    path("rounds/<int:pk>/refresh/", views.round_refresh, name="round_refresh"),
    path("rounds/<int:pk>/lines/<int:line_pk>/include/", views.line_include, name="line_include"),
    path("rounds/<int:pk>/send/", views.round_send, name="round_send"),
    path("rounds/<int:pk>/close/", views.round_close, name="round_close"),
    path("rounds/<int:pk>/deadline/", views.round_deadline, name="round_deadline"),
    path("rounds/<int:pk>/remind/", views.round_remind, name="round_remind"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<int:pk>/enter/", views.response_enter, name="response_enter"),
    path("responses/<int:pk>/", views.response_detail, name="response"),
    # The form (views.py)
    path("form/", views.form_edit, name="form"),
    # The customers' own scorecards (views.py)
    path("scorecards/", views.scorecard_list, name="scorecards"),
    path("scorecards/new/", views.scorecard_new, name="scorecard_new"),
    # E-mails of the surveys that failed, to send again (views.py)
    path("mail/failed/", views.failed_mail, name="failed_mail"),
    path("mail/<int:pk>/resend/", views.mail_resend, name="mail_resend"),
    # Records (views_records.py): blank form, answered forms, statistics and summary tables.
    path("form/<int:version>/blank.pdf", views_records.blank_form_pdf, name="blank_form_pdf"),
    path(
        "rounds/<int:pk>/customers/<int:line_pk>/blank.pdf", views_records.blank_form_pdf_for, name="blank_form_pdf_for"
    ),
    path("responses/<int:pk>/form.pdf", views_records.response_pdf, name="response_pdf"),
    path("rounds/<int:pk>/statistics.xlsx", views_records.statistics_xlsx, name="statistics_xlsx"),
    path("rounds/<int:pk>/statistics.pdf", views_records.statistics_pdf, name="statistics_pdf"),
    path("rounds/<int:pk>/summary.xlsx", views_records.summary_xlsx, name="summary_xlsx"),
    path("rounds/<int:pk>/summary.pdf", views_records.summary_pdf, name="summary_pdf"),
    path("rounds/<int:pk>/responses.pdf", views_records.responses_pdf, name="responses_pdf"),
]
