"""WSGI entry point (gunicorn worklog.wsgi:application)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "worklog.settings")

application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 (loads the URL conf and the views now, not on the first request)

# Everything loaded so far (Django, the apps, the URL conf) lives as long as the process:
# keep it out of the garbage collector's full passes, which otherwise walk it every few
# dozen requests (50–100 ms each on a small CPU: the pages' p95, measured in bench/).
gc.freeze()
