"""A small HTTP client for the benchmark: one keep-alive connection to 127.0.0.1, cookies
kept by hand (the session and CSRF cookies are flagged Secure when DEBUG=0; http.client
sends them back regardless), Django's login form and CSRF token."""

import http.client
import json
import re
import time
from urllib.parse import urlencode

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMEOUT = 60


class LoginFailed(Exception):
    pass


class Client:
    def __init__(self, port, host="127.0.0.1"):
        if host != "127.0.0.1":
            raise ValueError("the benchmark only talks to 127.0.0.1")
        self.host, self.port = host, port
        self.cookies = {}
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body bytes, seconds); reconnects once when the server closed."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2 or method != "GET":
                    raise
                continue
            seconds = time.perf_counter() - started
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    if key in ("sessionid", "csrftoken"):
                        self.cookies[key] = val
            if response.will_close:
                self.close()
            return response.status, dict(response.getheaders()), data, seconds
        raise AssertionError("unreachable")

    def get(self, path):
        return self.request("GET", path)

    def post_form(self, path, fields):
        body = urlencode(fields, doseq=True)
        return self.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded",
        })

    def post_json(self, path, document, token):
        """POST a JSON document, the CSRF token in the X-CSRFToken header (as the app's own
        JavaScript sends it)."""
        return self.request("POST", path, body=json.dumps(document).encode(), headers={
            "Content-Type": "application/json", "X-CSRFToken": token,
        })

    def csrf_token(self, path):
        status, _, body, _ = self.get(path)
        match = CSRF_INPUT.search(body.decode("utf-8", "replace"))
        if status != 200 or not match:
            raise LoginFailed(f"GET {path}: {status}, no CSRF token")
        return match.group(1)

    def login(self, username, password):
        token = self.csrf_token("/accounts/login/")
        status, _, _, _ = self.post_form("/accounts/login/", {
            "username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/",
        })
        if status != 302 or "sessionid" not in self.cookies:
            raise LoginFailed(f"login of {username}: {status}")

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def percentile(values, share):
    """Nearest-rank percentile (share 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def timed_gets(client, path, *, count, warmup=3, budget_seconds=120):
    """GET `path` `warmup` times unmeasured, then up to `count` times within the budget:
    {"p50", "p95", "n", "mean"} in milliseconds, or raises on a non-200 answer."""
    for _ in range(warmup):
        status, _, body, _ = client.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
    times = []
    deadline = time.monotonic() + budget_seconds
    while len(times) < count and time.monotonic() < deadline:
        status, _, body, seconds = client.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
        times.append(seconds * 1000)
    return {
        "p50": round(percentile(times, 0.50), 1),
        "p95": round(percentile(times, 0.95), 1),
        "mean": round(sum(times) / len(times), 1),
        "n": len(times),
    }
