"""How every form of the app shows its fields (settings.FORM_RENDERER), so that no form has to remember it:

- a label starts with a capital, whether it came from a model's verbose name or was written in lower case
  beside the field (``label=_("quantity")``), in every language that has capitals;
- a decimal the form starts from shows as people write it: 1200, not 1200.000 (a quantity kept with three
  decimals), 1.5, not 1.5000. What the user typed is shown exactly as typed."""

from decimal import Decimal

from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.utils.text import capfirst

from common.templatetags.numbers import plain


class AppBoundField(BoundField):
    def __init__(self, form, field, name):
        super().__init__(form, field, name)
        self.label = capfirst(self.label)

    def value(self):
        value = super().value()
        return plain(value) if isinstance(value, Decimal) else value


class FormRenderer(DjangoTemplates):
    bound_field_class = AppBoundField
