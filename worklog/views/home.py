"""`/`: each role's home — members their notebook, coordinators their dashboard."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from teams.access import active_memberships, coordinator_scopes, is_coordinator


@login_required
def home(request):
    user = request.user
    if active_memberships(user).exists():
        return redirect("notebook")
    if user.is_staff and not coordinator_scopes(user):
        return redirect("admin:index")
    if is_coordinator(user):
        return redirect("dashboard")
    return redirect("notebook")
