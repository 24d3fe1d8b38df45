"""What every request passes through on its way in and out: the one text rule applied to
its parameters, the address its client is known by, no caching of what a logged-in
user sees, the mark of a recent write that keeps a browser's reads on the primary, and
the content security policy of pages."""

import ipaddress

from django.conf import settings
from django.core.exceptions import BadRequest, ValidationError
from django.http import JsonResponse, QueryDict
from csp.middleware import CSPMiddleware
from django.utils.cache import patch_cache_control

from teams.text import clean_text
from worklog.routers import WROTE_AT_COOKIE, WROTE_AT_SALT, replica_configured

API_PREFIX = "/api/"


def _cleaned(query):
    """A copy of a QueryDict with teams.text's rule applied to every key and value."""
    cleaned = QueryDict(mutable=True, encoding=query.encoding)
    for key, values in query.lists():
        cleaned.setlist(clean_text(key), [clean_text(value) for value in values])
    cleaned._mutable = False
    return cleaned


class CleanInputMiddleware:
    """Query parameters and form fields (not files) under teams.text's rule, before any view
    reads them: a NUL refuses the request with a 400 saying so (PostgreSQL cannot even
    compare a text with a NUL: a filter with one was a 500), other invisible control
    characters are removed, so a filter, a form or the admin never sees them.

    Runs as process_view, once CSRF's check has read the form anyway."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        try:
            request.GET = _cleaned(request.GET)
            if request.method == "POST":
                request.POST = _cleaned(request.POST)
        except ValidationError as problem:
            message = problem.messages[0]
            if request.path.startswith(API_PREFIX):
                return JsonResponse({"error": message}, status=400)
            raise BadRequest(message) from None
        return None


class NoStoreMiddleware:
    """Cache-Control: no-store on every answer to a logged-in user, pages and exports alike:
    a shared phone's browser or a proxy must not keep households' data. Anonymous pages (the
    login page) keep their own headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, no_store=True)
        return response


WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ReadYourWritesMiddleware:
    """With a read replica (DATABASE_REPLICA_URL): after a write request that succeeded
    (2xx or 3xx), a signed `wrote_at` cookie that lasts REPLICA_READ_YOUR_WRITES_SECONDS,
    during which worklog.routers keeps this browser's reads on the primary. A cookie rather
    than the session: marking costs no query. Without a replica it does nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.method in WRITING_METHODS and response.status_code < 400
                and replica_configured()):
            response.set_signed_cookie(
                WROTE_AT_COOKIE, "1", salt=WROTE_AT_SALT,
                max_age=settings.REPLICA_READ_YOUR_WRITES_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax",
            )
        return response


class PagePolicyMiddleware(CSPMiddleware):
    """django-csp's Content-Security-Policy on every answer but JSON (the sync's and
    /api/totals'): a policy says what a page may load and run, and a JSON answer, sent
    with nosniff, is never a page. django-csp builds the policy for every answer, even
    one it is told to leave out: on a one-entry sync post that was a few percent of its
    CPU."""

    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        return super().process_response(request, response)


def client_address(request):
    """The address a login attempt counts against (django-axes' AXES_CLIENT_IP_CALLABLE).

    Behind our TLS proxy (BEHIND_TLS_PROXY) every request comes from the proxy, which
    appends the client's address to X-Forwarded-For: the last hop is the one to trust, any
    earlier ones are what the client chose to send. Without the proxy, X-Forwarded-For is
    the client's own claim and is ignored.
    """
    remote = request.META.get("REMOTE_ADDR")
    if not settings.BEHIND_TLS_PROXY:
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    try:
        return str(ipaddress.ip_address(hops[-1].strip()))
    except ValueError:  # no header, or not an address: the proxy did not append one
        return remote
