"""Logging under load: N members post entries through the real form for S seconds.

    python bench/load.py PLAN.json OUT.json

PLAN.json (written by the harness): {"port", "password", "seconds", "members":
[{"username", "households": [pk, ...]}], "activities": [{"pk", "uses": [...]}],
"dates": ["YYYY-MM-DD", ...], "resend_share"}.

Each member is one thread with its own keep-alive connection: it logs in, opens
/notebook/new/ once for the form's CSRF token, then posts entries with fresh uuids; a
share of them is sent a second time with the same uuid, as a double tap or a retry would.

- Without "rate" in the plan, back to back (no think time): the most the server takes
  (closed loop; with 50 members the latency is then 50 ÷ throughput by construction).
- With "rate" (entries/s offered in all), each member posts on a fixed schedule of
  members ÷ rate seconds, from a random phase (open loop, as a team's phones do not wait
  for each other). A post's latency counts from its scheduled moment, so a server
  falling behind shows as latency rather than as fewer requests sent.

A post counts as acknowledged when the answer is the redirect to the saved entry (302 to
/notebook/<id>/). The redirect is not followed; the one-time message the app set for the
page it leads to is dropped, as following it would. A post whose connection drops is sent
once more with the same uuid (counted apart); an error is a post that got no
acknowledgement. OUT.json gets the counts, latencies and the acknowledged uuids.
"""

import http.client
import json
import random
import re
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from httpclient import Client, percentile

SAVED = re.compile(r"/notebook/(\d+)/$")
MAX_POSTS_PER_MEMBER = 100_000


def fields_for(activity, households, day, rng):
    uses = set(activity["uses"])
    fields = {"date": day, "activity": activity["pk"], "title": "负载测试", "notes": "",
              "uuid": str(uuid.uuid4())}
    if "households" in uses:
        fields["households"] = rng.sample(households, rng.randint(1, 3))
    fields["participants"] = rng.randint(1, 30) if "participants" in uses else 0
    fields["sessions"] = rng.randint(1, 3) if "sessions" in uses else 0
    fields["quantity"] = rng.randint(1, 5) if "quantity" in uses else 0
    fields["funds"] = f"{rng.randint(100, 100000)}.00" if "funds" in uses else "0"
    return fields


def post(client, fields, mine):
    """POST the form; when the connection drops (the server closed a keep-alive connection
    as the request went out) send it again on a new one, as a browser retries: the uuid
    makes that safe. Counted in `transport_retries`."""
    try:
        answer = client.post_form("/notebook/new/", fields)
    except (ConnectionError, http.client.HTTPException):
        client.close()
        mine["transport_retries"] += 1
        answer = client.post_form("/notebook/new/", fields)
    client.cookies.pop("messages", None)  # shown, and so cleared, by the page redirected to
    return answer


def member(plan, spec, start, ready, results, lock, index):
    rng = random.Random(f"load/{index}")
    client = Client(plan["port"])
    mine = {"latencies": [], "acknowledged": [], "errors": 0, "statuses": {}, "resent": 0,
            "resent_same_entry": 0, "transport_retries": 0, "error_samples": []}
    try:
        client.login(spec["username"], plan["password"])
        token = client.csrf_token("/notebook/new/")
    except Exception as error:  # noqa: BLE001 (a member that cannot start is an error)
        mine["errors"] += 1
        mine["error_samples"].append(f"start: {error}")
        with lock:
            results.append(mine)
        return
    finally:
        ready.release()
    start.wait()
    deadline = plan["deadline"]
    interval = len(plan["members"]) / plan["rate"] if plan.get("rate") else None
    due = plan["began"] + rng.uniform(0, interval) if interval else None
    for _ in range(MAX_POSTS_PER_MEMBER):
        if interval:
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # the load's schedule, not a test's wait
        if time.monotonic() >= deadline:
            break
        activity = rng.choice(plan["activities"])
        fields = fields_for(activity, spec["households"], rng.choice(plan["dates"]), rng)
        fields["csrfmiddlewaretoken"] = token
        sends = 2 if rng.random() < plan["resend_share"] else 1
        first_location = None
        for attempt in range(sends):
            try:
                status, headers, body, seconds = post(client, fields, mine)
            except Exception as error:  # noqa: BLE001 (counted, the run goes on)
                mine["errors"] += 1
                if len(mine["error_samples"]) < 5:
                    mine["error_samples"].append(repr(error))
                client.close()
                continue
            mine["statuses"][status] = mine["statuses"].get(status, 0) + 1
            location = headers.get("Location", "")
            if status == 302 and SAVED.search(location):
                if interval and attempt == 0:  # from the moment it was due
                    seconds = max(seconds, time.monotonic() - due)
                mine["latencies"].append(seconds * 1000)
                if attempt == 0:
                    first_location = location
                    mine["acknowledged"].append(fields["uuid"])
                else:
                    mine["resent"] += 1
                    mine["resent_same_entry"] += location == first_location
            else:
                mine["errors"] += 1
                if len(mine["error_samples"]) < 5:
                    mine["error_samples"].append(f"{status}: {body[:200]!r}")
        if interval:
            due += interval
    client.close()
    with lock:
        results.append(mine)


def run(plan):
    results, lock = [], threading.Lock()
    start, ready = threading.Event(), threading.Semaphore(0)
    threads = [
        threading.Thread(target=member, args=(plan, spec, start, ready, results, lock, i),
                         daemon=True)
        for i, spec in enumerate(plan["members"])
    ]
    for thread in threads:
        thread.start()
    # The clock starts once everyone has logged in: logins hash passwords, slow on purpose.
    for _ in threads:
        ready.acquire(timeout=240)
    began = time.monotonic()
    plan["began"], plan["deadline"] = began, began + plan["seconds"]
    start.set()
    for thread in threads:
        thread.join(timeout=plan["seconds"] + 120)
    elapsed = time.monotonic() - began
    latencies = [ms for r in results for ms in r["latencies"]]
    acknowledged = [u for r in results for u in r["acknowledged"]]
    statuses = {}
    for r in results:
        for status, n in r["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + n
    return {
        "members": len(plan["members"]),
        "offered_rps": plan.get("rate"),
        "seconds": round(elapsed, 1),
        "rps": round(len(acknowledged) / elapsed, 1),
        "requests": sum(len(r["latencies"]) for r in results) + sum(r["errors"] for r in results),
        "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "errors": sum(r["errors"] for r in results),
        "statuses": statuses,
        "acknowledged": len(acknowledged),
        "resent": sum(r["resent"] for r in results),
        "resent_same_entry": sum(r["resent_same_entry"] for r in results),
        "transport_retries": sum(r["transport_retries"] for r in results),
        "error_samples": [s for r in results for s in r["error_samples"]][:10],
        "acknowledged_uuids": acknowledged,
    }


def main():
    plan = json.loads(Path(sys.argv[1]).read_text())
    result = run(plan)
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
