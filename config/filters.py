"""Filters shared by the apps' list endpoints."""

import django_filters
from django import forms

# The largest id either database stores (PostgreSQL bigint, SQLite INTEGER).
MAX_ID = 2**63 - 1


class IdFilter(django_filters.Filter):
    """A row id in a query string: a whole number in range, else a 400 with a message
    (django-filter's NumberFilter takes any decimal, which the database then refuses)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
