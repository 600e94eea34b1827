"""Template side of ``common.listing``: ``{% sort_th listed "key" %}`` renders a sortable header cell."""

from django import template

register = template.Library()


@register.inclusion_tag("common/_sortable_th.html")
def sort_th(listed, key, css=""):
    return {"h": listed.header(key), "css": css}
