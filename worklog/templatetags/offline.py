"""What the pages hand to the offline scripts (worklog/static/worklog/offline_form.js)."""

import json

from django import template

register = template.Library()


@register.filter
def activity_codes(activities):
    """{primary key: code} of the form's activities, as JSON: the form sends primary keys,
    the sync endpoint takes codes (DESIGN §6)."""
    return json.dumps({activity.pk: activity.code for activity in activities})
