"""Households pages (placeholder until built)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def household_list(request):
    return HttpResponse("households")


household_new = household_detail = household_edit = household_list
