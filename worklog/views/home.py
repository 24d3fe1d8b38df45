"""`/`: each role's home."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from teams.access import active_memberships


@login_required
def home(request):
    if active_memberships(request.user).exists():
        return redirect("notebook")
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("notebook")
