"""``{% widget field %}``: a form field's ``<input>``, the markup Django's widget templates draw.

Django renders every widget through a template (``input.html`` including ``attrs.html``), which
made up a quarter of the sign-in page's rendering (issue 7). The inputs here are drawn in Python
with the same attributes in the same order; any other widget (select, radios, textarea) and any
input with a template or a ``render`` of its own go through Django as before.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.forms.widgets import Input, Widget
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

# Django's own input templates: each is exactly {% include "django/forms/widgets/input.html" %}.
_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{kind}.html"
    for kind in ("input", "text", "email", "password", "checkbox", "number", "tel", "hidden", "url")
)


@register.simple_tag
def widget(field: BoundField) -> SafeString:
    """What ``{{ field }}`` renders, drawn without a template when the widget is a plain input."""
    drawn = field.field.widget
    if (
        not isinstance(drawn, Input)
        or drawn.template_name not in _INPUT_TEMPLATES
        or type(drawn).render is not Widget.render
        or type(field).as_widget is not BoundField.as_widget
        or field.field.show_hidden_initial
    ):
        return format_html("{}", field)  # Django's own rendering (safe HTML: kept as it is)
    if field.field.localize:
        drawn.is_localized = True
    attrs = field.build_widget_attrs({}, drawn)
    if field.auto_id and "id" not in drawn.attrs:
        attrs.setdefault("id", field.auto_id)
    return _input(drawn.get_context(field.html_name, field.value(), attrs)["widget"])


def _input(context: dict[str, Any]) -> SafeString:
    # django/forms/widgets/input.html and attrs.html, attribute by attribute, every value escaped.
    html = format_html('<input type="{}" name="{}"', context["type"], context["name"])
    if context["value"] is not None:
        html += format_html(' value="{}"', context["value"])
    for name, value in context["attrs"].items():
        if value is True:
            html += format_html(" {}", name)
        elif value is not False:
            html += format_html(' {}="{}"', name, value)
    return format_html("{}>", html)
