"""`/notebook/`: the team's entries (placeholder until the list is built)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def notebook(request):
    return HttpResponse("notebook")
