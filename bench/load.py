"""Logging under load: N members send entries for S seconds, through the real form or the
sync endpoint.

    python bench/load.py PLAN.json OUT.json

PLAN.json (written by the harness): {"port", "password", "seconds", "way": "form" or
"sync", "batch": [fewest, most] entries per sync request, "members": [{"username",
"households": [pk, ...]}], "activities": [{"pk", "code", "uses": [...]}], "dates":
["YYYY-MM-DD", ...], "resend_share"}.

Each member is one thread with its own keep-alive connection: it logs in, opens
/notebook/new/ once for the form's CSRF token, then sends entries with fresh uuids:

- "form": one entry per POST of /notebook/new/ (date, activity pk, household pks, the
  measures, title, notes, uuid, csrfmiddlewaretoken). A post counts as acknowledged when
  the answer is the redirect to the saved entry (302 to /notebook/<id>/). The redirect is
  not followed; the one-time message the app set for the page it leads to is dropped, as
  following it would.
- "sync": the member's outbox, a batch of `batch` entries per POST of /api/sync (JSON, the
  activity by its code, the token in X-CSRFToken): [1, 1] is a phone online sending each
  entry as it is saved, [1, 20] an outbox sent when the signal returns, [20, 20] full
  batches. A batch counts as acknowledged when every entry's answer is `created`.

A share of the sends (`resend_share`) goes a second time as it was, as a double tap or an
outbox whose answer was lost would: the form must land on the same entry, the sync answer
`present` with the same entries.

- Without "rate" in the plan, back to back (no think time): the most the server takes
  (closed loop; with 50 members the latency is then 50 ÷ throughput by construction).
- With "rate" (entries/s offered in all), each member sends on a fixed schedule, from a
  random phase (open loop, as a team's phones do not wait for each other): an entry every
  members ÷ rate seconds, so a batch of k entries is followed by the next k such intervals
  later. A send's latency counts from its scheduled moment, so a server falling behind
  shows as latency rather than as fewer requests sent.

A send whose connection drops is sent once more as it was (counted apart: the uuids make
that safe); an error is a send that got no acknowledgement. OUT.json gets the counts,
latencies (per request) and the acknowledged uuids. The line "load: began" goes to stdout
once every member has logged in and the clock starts (the harness times pages meanwhile).
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
MAX_SENDS_PER_MEMBER = 100_000
SYNC_BATCH = (1, 20)  # when the plan names no batch


def fields_for(activity, households, day, rng):
    """One entry's values; the activity as the form names it (its pk)."""
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


class FormWay:
    """One entry per POST of the notebook's form."""

    def __init__(self, token):
        self.token = token

    def entries(self, plan, spec, rng):
        activity = rng.choice(plan["activities"])
        fields = fields_for(activity, spec["households"], rng.choice(plan["dates"]), rng)
        return [fields]

    def send(self, client, entries):
        answer = client.post_form("/notebook/new/", {**entries[0], "csrfmiddlewaretoken": self.token})
        client.cookies.pop("messages", None)  # shown, and so cleared, by the page redirected to
        return answer

    def saved(self, answer, entries, again):
        """What the answer says was saved (the entry's address), or None: not acknowledged."""
        status, headers, _body, _seconds = answer
        location = headers.get("Location", "")
        return location if status == 302 and SAVED.search(location) else None


class SyncWay:
    """A batch of the outbox per POST of /api/sync."""

    def __init__(self, token):
        self.token = token

    def entries(self, plan, spec, rng):
        batch = []
        for _ in range(rng.randint(*plan.get("batch") or SYNC_BATCH)):
            activity = rng.choice(plan["activities"])
            fields = fields_for(activity, spec["households"], rng.choice(plan["dates"]), rng)
            batch.append({**fields, "activity": activity["code"]})
        return batch

    def send(self, client, entries):
        return client.post_json("/api/sync", {"entries": entries}, self.token)

    def saved(self, answer, entries, again):
        """The entries' ids when every one was created (`present` when sent `again`), or None."""
        status, _headers, body, _seconds = answer
        if status != 200:
            return None
        results = json.loads(body)["results"]
        expected = "present" if again else "created"
        if [r["uuid"] for r in results] != [e["uuid"] for e in entries] or any(
                r["status"] != expected for r in results):
            return None
        return tuple(r["entry"] for r in results)


WAYS = {"form": FormWay, "sync": SyncWay}


def send(way, client, entries, mine):
    """Send; when the connection drops (the server closed a keep-alive connection as the
    request went out) send it again on a new one, as a browser retries: the uuids make
    that safe. Counted in `transport_retries`."""
    try:
        return way.send(client, entries)
    except (ConnectionError, http.client.HTTPException):
        client.close()
        mine["transport_retries"] += 1
        return way.send(client, entries)


def member(plan, spec, start, ready, results, lock, index):
    rng = random.Random(f"load/{index}")
    client = Client(plan["port"])
    mine = {"latencies": [], "acknowledged": [], "errors": 0, "statuses": {}, "resent": 0,
            "resent_same_entry": 0, "transport_retries": 0, "error_samples": []}
    try:
        client.login(spec["username"], plan["password"])
        way = WAYS[plan.get("way", "form")](client.csrf_token("/notebook/new/"))
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
    for _ in range(MAX_SENDS_PER_MEMBER):
        if interval:
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # the load's schedule, not a test's wait
        if time.monotonic() >= deadline:
            break
        entries = way.entries(plan, spec, rng)
        sends = 2 if rng.random() < plan["resend_share"] else 1
        first = None
        for attempt in range(sends):
            try:
                answer = send(way, client, entries, mine)
            except Exception as error:  # noqa: BLE001 (counted, the run goes on)
                mine["errors"] += 1
                if len(mine["error_samples"]) < 5:
                    mine["error_samples"].append(repr(error))
                client.close()
                continue
            status, _headers, body, seconds = answer
            mine["statuses"][status] = mine["statuses"].get(status, 0) + 1
            saved = way.saved(answer, entries, again=attempt > 0)
            if saved is not None:
                if interval and attempt == 0:  # from the moment it was due
                    seconds = max(seconds, time.monotonic() - due)
                mine["latencies"].append(seconds * 1000)
                if attempt == 0:
                    first = saved
                    mine["acknowledged"].extend(entry["uuid"] for entry in entries)
                else:
                    mine["resent"] += 1
                    mine["resent_same_entry"] += saved == first
            else:
                mine["errors"] += 1
                if len(mine["error_samples"]) < 5:
                    mine["error_samples"].append(f"{status}: {body[:200]!r}")
        if interval:
            due += interval * len(entries)
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
    print("load: began", flush=True)
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
        "way": plan.get("way", "form"),
        **({"batch": plan.get("batch") or list(SYNC_BATCH)} if plan.get("way") == "sync" else {}),
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
