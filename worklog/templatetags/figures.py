"""`{% load figures %}`: how figures read in templates (worklog/figures.py is the rule)."""

from django import template

from worklog.figures import exact_number

register = template.Library()
register.filter("exact_number", exact_number)
