"""Forms of the staff pages of the surveys. They check the input's shape; the rules of the procedure are the
services' (satisfaction.services), whose refusals the views put beside the form."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from orders.forms import DATE, clean_scan
from satisfaction.models import Question, Response, SurveyForm


def _active_customers():
    return Customer.objects.exclude(status=Customer.Status.INACTIVE).order_by("code")


class HalfYearForm(forms.Form):
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    half = forms.TypedChoiceField(label=_("half"), choices=[(1, "H1"), (2, "H2")], coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.initial.setdefault("year", today.year)
        self.initial.setdefault("half", 1 if today.month <= 6 else 2)


class AdHocRoundForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=120)
    reason = forms.CharField(
        label=_("why this round is needed"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example the serious incident that calls for it (§5.11.1)."),
    )
    period_start = forms.DateField(label=_("period from"), widget=DATE)
    period_end = forms.DateField(label=_("period to"), widget=DATE)
    deadline = forms.DateField(label=_("answers by"), widget=DATE)
    customers = forms.ModelMultipleChoiceField(
        queryset=Customer.objects.none(),
        label=_("customers"),
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = _active_customers()
        today = timezone.localdate()
        self.initial.setdefault("period_start", today - timedelta(days=182))
        self.initial.setdefault("period_end", today)
        self.initial.setdefault("deadline", today + timedelta(days=settings.SURVEY_RESPONSE_DAYS))

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        deadline = data.get("deadline")
        if deadline and deadline < timezone.localdate():
            self.add_error("deadline", _("The deadline is in the past."))
        return data


class DeadlineForm(forms.Form):
    deadline = forms.DateField(label=_("new deadline"), widget=DATE)


class LineIncludeForm(forms.Form):
    included = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")
    reason = forms.CharField(
        label=_("reason"),
        max_length=1000,
        error_messages={"required": _("Write why this customer is added or removed.")},
    )


class ActionForm(forms.Form):
    """A button with nothing to fill in (send, close, remind, resend): carries the service's refusal."""


class ResponseEntryForm(forms.Form):
    """A paper, e-mailed or faxed form keyed in by Customer Service: one radio group per question."""

    channel = forms.ChoiceField(
        label=_("received by"),
        choices=[(c.value, c.label) for c in Response.Channel if c != Response.Channel.LINK],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    scan = forms.FileField(label=_("scanned form (PDF or image)"), required=False)

    def __init__(self, *args, survey_form: SurveyForm, response: Response | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(survey_form.questions.all())
        self.response = response
        fields = {}
        for question in self.questions:
            choices = [(str(v), str(v)) for v in question.choices]
            if question.allow_na:
                choices.append(("na", _("not applicable")))
            fields[self.key(question)] = forms.ChoiceField(
                label=f"{question.position}. {question.text_zh} / {question.text_en}",
                choices=choices,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": _("Choose an answer.")},
            )
        # The questions first, as on the paper form.
        self.fields = {**fields, **self.fields}
        if response is not None:
            for question in self.questions:
                value = response.answers.get(str(question.pk), "")
                self.initial.setdefault(self.key(question), "na" if value is None else str(value))
            self.initial.setdefault("comment", response.comment)
            if response.channel != Response.Channel.LINK:
                self.initial.setdefault("channel", response.channel)
        self.initial.setdefault("channel", Response.Channel.PAPER)
        # The scan is the record of what the customer wrote: required unless one is on file already.
        self.fields["scan"].required = not (response is not None and response.scan)

    @staticmethod
    def key(question: Question) -> str:
        return f"q_{question.pk}"

    def question_fields(self):
        return [self[self.key(q)] for q in self.questions]

    def raw_answers(self) -> dict[str, str]:
        return {str(q.pk): self.cleaned_data[self.key(q)] for q in self.questions}

    def clean_scan(self):
        return clean_scan(self.cleaned_data.get("scan"))


class FormHeaderForm(forms.Form):
    title_zh = forms.CharField(label=_("title (Chinese)"), max_length=200)
    title_en = forms.CharField(label=_("title (English)"), max_length=200)
    intro_zh = forms.CharField(
        label=_("introduction (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    intro_en = forms.CharField(
        label=_("introduction (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class QuestionForm(forms.Form):
    text_zh = forms.CharField(label=_("question (Chinese)"), max_length=300, required=False)
    text_en = forms.CharField(label=_("question (English)"), max_length=300, required=False)
    weight = forms.DecimalField(
        label=_("weight"), max_digits=5, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    scale_min = forms.IntegerField(label=_("lowest answer"), min_value=0, max_value=99, required=False)
    scale_max = forms.IntegerField(label=_("highest answer"), min_value=1, max_value=100, required=False)
    allow_na = forms.BooleanField(label=_('"not applicable" allowed'), required=False)

    def clean(self):
        data = super().clean()
        if self.is_blank(data):
            return data
        for name in ("text_zh", "text_en", "weight", "scale_min", "scale_max"):
            if data.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, _("This field is required."))
        low, high = data.get("scale_min"), data.get("scale_max")
        if low is not None and high is not None and high <= low:
            self.add_error("scale_max", _("The highest answer must be above the lowest."))
        return data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            checkbox = isinstance(field.widget, forms.CheckboxInput)
            field.widget.attrs.setdefault("class", "form-check-input" if checkbox else "form-control form-control-sm")
            if isinstance(field, forms.DecimalField | forms.IntegerField):
                field.widget.attrs.setdefault("style", "width: 6rem")

    @staticmethod
    def is_blank(data) -> bool:
        return not any(data.get(name) not in (None, "") for name in ("text_zh", "text_en", "weight"))


class BaseQuestionFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("remove")
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = self.kept_forms()
        if not kept:
            raise forms.ValidationError(_("A survey form needs at least one question."))
        total = sum(f.cleaned_data["weight"] for f in kept)
        if total != 100:
            raise forms.ValidationError(
                _("The weights add up to %(total)s; they must add up to 100.") % {"total": total.normalize()}
            )

    def kept_forms(self):
        return [
            f
            for f in self.forms
            if f.is_valid() and not f.cleaned_data.get("DELETE") and not QuestionForm.is_blank(f.cleaned_data)
        ]


QuestionFormSet = forms.formset_factory(
    QuestionForm, formset=BaseQuestionFormSet, extra=2, can_delete=True, max_num=50, validate_max=True
)


class ScorecardForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), label=_("customer"))
    rated_on = forms.DateField(label=_("date of the rating"), widget=DATE)
    score = forms.DecimalField(label=_("the customer's score"), max_digits=8, decimal_places=2, min_value=0)
    maximum = forms.DecimalField(label=_("maximum score"), max_digits=8, decimal_places=2, min_value=Decimal("0.01"))
    grade = forms.CharField(
        label=_("grade (as the customer wrote it)"),
        max_length=40,
        required=False,
        help_text=_("When the customer rates with a grade (A, B …), give the number it stands for as the score."),
    )
    file = forms.FileField(label=_("the customer's form (PDF or image)"), required=False)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = _active_customers()

    def clean_file(self):
        return clean_scan(self.cleaned_data.get("file"))

    def clean(self):
        data = super().clean()
        score, maximum = data.get("score"), data.get("maximum")
        if score is not None and maximum is not None and score > maximum:
            self.add_error("score", _("The score must be between 0 and the maximum."))
        rated_on = data.get("rated_on")
        if rated_on and rated_on > timezone.localdate():
            self.add_error("rated_on", _("The date of the rating cannot be in the future."))
        return data
