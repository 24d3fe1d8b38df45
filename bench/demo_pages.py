"""Server time of the main pages on the seeded demo, measured in-process.

    .venv/bin/python bench/demo_pages.py [--requests 100] [--database-url URL]

Creates a fresh database (a temporary SQLite file unless --database-url names an empty
PostgreSQL database), migrates, seeds the demo, then times each request through Django's
full middleware stack with the test client (no network, no browser): the member's notebook
page, saving a new entry through the form, the coordinator's organisation dashboard and
`/api/totals`. Prints p50 / p95 in milliseconds and writes bench/demo_pages.json.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(call, count):
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 302), response.status_code
    return {"p50": round(statistics.median(samples), 1), "p95": round(percentile(samples, 0.95), 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="worklog-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/demo.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "worklog.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from teams.models import Household
    from worklog.models import Activity

    # No setup_test_environment(): its instrumented template rendering would be timed too.
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    call_command("seed", demo_password="bench-demo-pass", verbosity=0)
    users = get_user_model().objects
    member, coordinator = Client(), Client()
    member.force_login(users.get(username="member-lucaogou"))
    coordinator.force_login(users.get(username="coordinator"))
    visit = Activity.objects.get(code="policy_visit")
    homes = list(Household.objects.filter(village__slug="lucaogou").values_list("pk", flat=True)[:2])

    def save_entry():
        return member.post("/notebook/new/", {
            "date": timezone.localdate().isoformat(), "activity": visit.pk, "households": homes,
            "participants": "5", "title": "入户宣讲惠民政策", "uuid": str(uuid.uuid4()),
        })

    n = args.requests
    results = {
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "requests": n,
        "notebook_ms": timed(lambda: member.get("/notebook/"), n),
        "save_entry_ms": timed(save_entry, n),
        "dashboard_ms": timed(lambda: coordinator.get("/dashboard/?year=2017&org=8th-division"), n),
        "api_totals_ms": timed(lambda: coordinator.get("/api/totals?year=2017&org=8th-division"), n),
    }
    print(json.dumps(results, indent=2))
    (ROOT / "bench" / "demo_pages.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
