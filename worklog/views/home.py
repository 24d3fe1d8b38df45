"""`/`: each role's home — members their notebook, coordinators their dashboard."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from teams.access import active_memberships, is_coordinator


@login_required
def home(request):
    if active_memberships(request.user).exists():
        return redirect("notebook")
    if is_coordinator(request.user):
        return redirect("dashboard")
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("notebook")
