"""Forms of the improvement meeting and the corrective actions. They check the input's shape; the rules of the
procedure are the services' (improvement.actions), whose refusals the views put beside the form."""

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Dept
from complaints.models import Complaint
from customers.models import Customer
from delivery.models import Return
from improvement.actions import DEFAULT_VERIFY_DAYS
from improvement.models import Action, AnalysisReport, Meeting
from orders.forms import DATE
from satisfaction.models import Question, SurveyRound

TEXT = {"rows": 3}

# GET parameters the action form takes (the analysis report's and the complaint's "propose an action" links).
PREFILL = ("source", "kind", "round", "question", "customer", "complaint", "ret", "month", "report", "meeting")
PREFILL_TEXT = ("title", "problem")


def _dept_choices():
    return [(d.value, d.label) for d in Dept]


class MeetingForm(forms.Form):
    held_on = forms.DateField(label=_("held on"), widget=DATE)
    title = forms.CharField(label=_("title"), max_length=200)
    departments = forms.MultipleChoiceField(
        label=_("departments concerned"),
        choices=_dept_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The minutes go to them as an internal memo; each acknowledges it."),
    )
    attendees = forms.CharField(label=_("attendees (people)"), widget=forms.Textarea(attrs={"rows": 2}))
    minutes = forms.CharField(label=_("minutes"), widget=forms.Textarea(attrs={"rows": 8}))
    decisions = forms.CharField(
        label=_("decisions"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Each decision can then become a corrective action from the meeting's page."),
    )
    report = forms.ModelChoiceField(
        queryset=AnalysisReport.objects.none(), label=_("analysis report discussed"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report"].queryset = AnalysisReport.objects.select_related("round").order_by(
            "-round__period_end", "-version"
        )
        self.initial.setdefault("held_on", timezone.localdate())


class _OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        # From the prefetched groups: departments_of() would ask the database once per user.
        names = sorted({g.name for g in obj.groups.all()} & set(Dept.values))
        depts = ", ".join(str(Dept(d).label) for d in names)
        return f"{obj} — {depts}" if depts else str(obj)


class _QuestionField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"v{obj.form.version} · {obj.text}"


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=Action.Kind.choices, initial=Action.Kind.CORRECTIVE)
    source = forms.ChoiceField(label=_("source"), choices=Action.Source.choices)
    round = forms.ModelChoiceField(queryset=SurveyRound.objects.none(), label=_("survey round"), required=False)
    question = _QuestionField(queryset=Question.objects.none(), label=_("survey question"), required=False)
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.all(),
        to_field_name="code",
        label=_("customer code"),
        required=False,
        widget=forms.TextInput,
    )
    complaint = forms.ModelChoiceField(
        queryset=Complaint.objects.all(),
        to_field_name="number",
        label=_("complaint no."),
        required=False,
        widget=forms.TextInput,
    )
    ret = forms.ModelChoiceField(
        queryset=Return.objects.all(), label=_("return (id)"), required=False, widget=forms.TextInput
    )
    month = forms.CharField(label=_("month of the on-time rate (YYYY-MM)"), max_length=7, required=False)
    meeting = forms.ModelChoiceField(queryset=Meeting.objects.none(), label=_("improvement meeting"), required=False)
    report = forms.ModelChoiceField(queryset=AnalysisReport.objects.none(), label=_("analysis report"), required=False)
    title = forms.CharField(label=_("title"), max_length=200)
    problem = forms.CharField(label=_("the finding"), widget=forms.Textarea(attrs=TEXT))
    plan = forms.CharField(label=_("what will be done"), widget=forms.Textarea(attrs=TEXT))
    owner_department = forms.ChoiceField(label=_("owner department"), choices=_dept_choices)
    owner = _OwnerField(queryset=get_user_model().objects.none(), label=_("owner"))
    due_date = forms.DateField(label=_("due"), widget=DATE)
    verify_after = forms.DateField(
        label=_("verify the effect after"),
        widget=DATE,
        required=False,
        help_text=_("Leave empty: the owner sets it when reporting the action done (30 days later by default)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["round"].queryset = SurveyRound.objects.exclude(status=SurveyRound.Status.DRAFT).order_by(
            "-period_end", "-pk"
        )
        self.fields["question"].queryset = Question.objects.select_related("form").order_by(
            "-form__version", "position", "pk"
        )
        self.fields["meeting"].queryset = Meeting.objects.order_by("-held_on", "-pk")
        self.fields["report"].queryset = AnalysisReport.objects.select_related("round").order_by(
            "-round__period_end", "-version"
        )
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True).prefetch_related("groups").order_by("username")
        )
        self.initial.setdefault("due_date", timezone.localdate() + timedelta(days=DEFAULT_VERIFY_DAYS))

    def clean_due_date(self):
        due = self.cleaned_data["due_date"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("The due date is in the past."))
        return due

    @staticmethod
    def initial_from_query(query) -> dict:
        """The form's first values from the link that proposes the action (``?source=question&round=3&…``). Unknown
        or malformed values are dropped, never an error: the person fills them in."""

        def get(name: str) -> str:
            return (query.get(name) or "").replace("\x00", "").strip()

        initial: dict = {}
        source = get("source")
        if source in Action.Source.values:
            initial["source"] = source
        if get("kind") in Action.Kind.values:
            initial["kind"] = get("kind")
        for name in ("round", "question", "meeting", "ret"):
            if get(name).isdigit():
                initial[name] = int(get(name))
        report_id = get("report")
        if report_id.isdigit():
            report = AnalysisReport.objects.filter(pk=int(report_id)).only("pk", "round_id").first()
            if report is not None:
                initial["report"] = report.pk
                initial.setdefault("round", report.round_id)
        customer = _lookup(Customer, "code", get("customer"))
        if customer is not None:
            initial["customer"] = customer.code
        complaint = _lookup(Complaint, "number", get("complaint"))
        if complaint is not None:
            initial["complaint"] = complaint.number
            initial.setdefault("customer", complaint.customer.code)
            if complaint.department in Dept.values:
                initial["owner_department"] = complaint.department
        month = get("month")
        if month:
            initial["month"] = month[:7]
        for name in PREFILL_TEXT:
            if get(name):
                initial[name] = get(name)[:200] if name == "title" else get(name)
        return initial


def _lookup(model, field: str, value: str):
    """By id, as every reference of the link is given (the analysis report's links pass ids); a value that is not
    a number is taken as the readable key (customer code, complaint number). A number that is no id is tried as a
    key too (a customer code may be all digits)."""
    if not value:
        return None
    found = model.objects.filter(pk=int(value)).first() if value.isdigit() else None
    return found or model.objects.filter(**{field: value}).first()


class DoneForm(forms.Form):
    done_text = forms.CharField(label=_("what was done"), widget=forms.Textarea(attrs={"rows": 5}))
    verify_after = forms.DateField(
        label=_("the effect can be verified from"),
        widget=DATE,
        required=False,
        help_text=_("Empty: in 30 days. Not before today."),
    )


class VerifyForm(forms.Form):
    effective = forms.TypedChoiceField(
        label=_("result"),
        choices=[("1", _("Effective: close the action")), ("0", _("Not effective: reopen it for the owner"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    evidence = forms.CharField(label=_("evidence"), widget=forms.Textarea(attrs={"rows": 5}))
