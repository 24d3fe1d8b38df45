"""The site's error pages (400, 403, 404, 500 and a refused form), in its layout and the
user's language, with the navigation and a way back; set as the URLconf's handlers and as
CSRF_FAILURE_VIEW. Messages are shown only where we wrote them for people, and always
escaped by the template."""

import logging

from django.core.exceptions import BadRequest
from django.http import HttpResponseServerError, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from worklog.middleware import API_PREFIX

logger = logging.getLogger(__name__)

# What a page that cannot be rendered says instead, in both languages: no translation,
# template or database is needed to send it.
PLAIN_SERVER_ERROR = "500 服务器出错，请稍后再试。 / Server error: please try again later.\n"


def bad_request(request, exception=None):
    # Our own refusals (BadRequest) are written for people; Django's other 400s
    # (SuspiciousOperation) carry details for the log only.
    message = str(exception) if isinstance(exception, BadRequest) else ""
    return render(request, "400.html", {"message": message, "page_url": request.path}, status=400)


def permission_denied(request, exception=None):
    message = str(exception) if exception is not None else ""
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def csrf_failure(request, reason=""):
    if request.path.startswith(API_PREFIX):  # a program reads the answer: JSON, as the API's others
        return JsonResponse({"error": _("The security token (X-CSRFToken) is missing or out of "
                                        "date: reload the page and try again.")}, status=403)
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    """The 500 page, rendered without the database or context processors (the error may be
    that the database is gone); plain text when even that fails."""
    try:
        context = {"request": request, "csrf_token": get_token(request)}
        return HttpResponseServerError(loader.get_template("500.html").render(context))
    except Exception:  # noqa: BLE001 (the last resort must answer whatever went wrong)
        logger.exception("The 500 page could not be rendered")
        return HttpResponseServerError(PLAIN_SERVER_ERROR, content_type="text/plain; charset=utf-8")
