"""Pages that are not yet their own room: the role's home."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("admin:index")
