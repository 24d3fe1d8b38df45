"""The notebook on a phone with no signal: the web app manifest, the service worker and
the outbox page (issue 13, point 1). The outbox itself lives in the phone's IndexedDB
(worklog/static/worklog/outbox.js); the server only serves the pages that show it."""

import hashlib
import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

# The header's colour in site.css (its links' blue, the icons' background).
THEME_COLOUR = "#0a58ca"

ICONS = [
    {"src": "worklog/icons/icon-192.png", "sizes": "192x192", "purpose": "any"},
    {"src": "worklog/icons/icon-512.png", "sizes": "512x512", "purpose": "any"},
    {"src": "worklog/icons/icon-maskable-512.png", "sizes": "512x512", "purpose": "maskable"},
]

# What every page needs to show with no connection, fetched when the service worker installs.
PRECACHED = [
    "bootstrap/css/bootstrap.min.css",
    "worklog/site.css",
    "worklog/print.css",
    "worklog/favicon.ico",
    "worklog/outbox.js",
    "worklog/offline.js",
    "worklog/offline_form.js",
    "worklog/outbox_page.js",
    "worklog/entry_form.js",
    *(icon["src"] for icon in ICONS),
]


def _manifest_language(request):
    """The language asked in `?lang=` (the page links its own), else the request's: the
    browser fetches a manifest without cookies, so the language switch cannot reach it."""
    asked = request.GET.get("lang", "")
    known = {code for code, _name in settings.LANGUAGES}
    return asked if asked in known else translation.get_language()


@require_GET
def manifest(request):
    """The web app manifest: installs the notebook on a phone's home screen, opening on
    the notebook in a window of its own."""
    language = _manifest_language(request)
    with translation.override(language):
        document = {
            "id": "/",
            "name": _("Team Worklog"),
            "short_name": _("Worklog"),
            "description": _("The work team's notebook: visits and activities, also offline."),
            "lang": language,
            "start_url": reverse("notebook"),
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME_COLOUR,
            "background_color": "#ffffff",
            "icons": [{**icon, "src": static(icon["src"]), "type": "image/png"} for icon in ICONS],
        }
    return JsonResponse(document, content_type="application/manifest+json",
                        json_dumps_params={"ensure_ascii": False})


def _service_worker_source():
    """sw.js with the addresses it needs in front: the static files under their served
    names (hashed in production, so a new release is a new worker) and the pages it keeps."""
    config = {
        "assets": [static(name) for name in PRECACHED],
        "staticPrefix": static(""),
        # hashed names never change content: no need to check them again
        "staticImmutable": not settings.DEBUG,
        "pages": [reverse("notebook"), reverse("entry_new"), reverse("outbox")],
        "pagesReadingQuery": [reverse("entry_new"), reverse("outbox")],
        "formPage": reverse("entry_new"),
    }
    with open(finders.find("worklog/sw.js"), encoding="utf-8") as source:
        body = source.read()
    prelude = "const CONFIG = " + json.dumps(config, sort_keys=True) + ";\n"
    version = hashlib.sha256((prelude + body).encode()).hexdigest()[:12]
    return prelude + f'const VERSION = "{version}";\n' + body


@require_GET
def service_worker(request):
    """The service worker, from the site's root so that its scope covers every page."""
    response = HttpResponse(_service_worker_source(), content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    patch_cache_control(response, no_cache=True)
    return response


@login_required
@require_GET
def outbox(request):
    """The entries saved on this phone and not yet sent: listed by outbox_page.js from the
    phone's own store, as the server cannot see them."""
    return render(request, "notebook/outbox.html")
