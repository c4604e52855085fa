"""The faults of venue_fault_proxy.py: which are armed, which request they hit, what was applied.

Thread-safe (one lock): the REST handler threads, the WebSocket loop and the control server all
ask it. Request faults (http_5xx, rate_limit, timeout_after_accept) hit the next `count`
requests whose path is `path` (no path: any); the first armed fault that matches wins, and its
count goes down by one. Window faults (drop_ws's refuse_ms, upstream_down's ms) are deadlines.
"""
import threading
import time

REQUEST_KINDS = ("http_5xx", "rate_limit", "timeout_after_accept")
ACTION_KINDS = ("drop_ws", "upstream_down")
KINDS = REQUEST_KINDS + ACTION_KINDS
# The fields each kind takes ("kind" and "path" for all).
FIELDS = {"http_5xx": {"count", "status"}, "rate_limit": {"count", "limit", "reset_ms"},
          "timeout_after_accept": {"count", "hold_ms"}, "drop_ws": {"refuse_ms"},
          "upstream_down": {"ms", "mode"}}
FIELDS = {k: v | {"kind", "path"} for k, v in FIELDS.items()}
MAX_MS = 600_000
MAX_COUNT = 1_000_000


class FaultError(ValueError):
    """A control request that names an unknown kind or a field out of range."""


def _int_field(spec, name, default, lo, hi):
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise FaultError(f"'{name}' must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def parse_fault(spec):
    """The normalised fault of one control JSON object, or FaultError naming the bad field."""
    if not isinstance(spec, dict):
        raise FaultError("a fault is a JSON object")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise FaultError(f"'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    for name in spec:
        if name not in FIELDS[kind]:
            known = any(name in fields for fields in FIELDS.values())
            raise FaultError(f"'{name}' does not apply to {kind}" if known else f"unknown field '{name}'")
    path = spec.get("path")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        raise FaultError(f"'path' must be a string starting with '/', got {path!r}")
    f = {"kind": kind, "path": path}
    if kind in REQUEST_KINDS:
        f["count"] = _int_field(spec, "count", 1, 1, MAX_COUNT)
    if kind == "http_5xx":
        f["status"] = _int_field(spec, "status", 503, 400, 599)
    elif kind == "rate_limit":
        f["limit"] = _int_field(spec, "limit", 10, 1, MAX_COUNT)
        f["reset_ms"] = _int_field(spec, "reset_ms", 1000, 0, MAX_MS)
    elif kind == "timeout_after_accept":
        f["hold_ms"] = _int_field(spec, "hold_ms", 15_000, 0, MAX_MS)
    elif kind == "drop_ws":
        f["refuse_ms"] = _int_field(spec, "refuse_ms", 0, 0, MAX_MS)
        f["path"] = path or "/v5/private"
    elif kind == "upstream_down":
        f["ms"] = _int_field(spec, "ms", 3000, 1, MAX_MS)
        mode = spec.get("mode", "reset")
        if mode not in ("reset", "502"):
            raise FaultError(f"'mode' must be \"reset\" or \"502\", got {mode!r}")
        f["mode"] = mode
    return f


class FaultBook:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._armed = []  # request faults with "count" left
            self._next_id = 1
            self._ws_refused_until = 0.0  # monotonic
            self._down_until = 0.0
            self._down_mode = "reset"
            self._applied = {k: 0 for k in KINDS}
            self._forwarded = {}
            self._refused = {"rest": 0, "ws": 0}
            self._ws = {"accepted": 0, "dropped": 0}

    def arm(self, fault):
        """Arms a request fault, or opens the refusal window of an action; returns its id."""
        with self._lock:
            fid = self._next_id
            self._next_id += 1
            now = time.monotonic()
            if fault["kind"] in REQUEST_KINDS:
                self._armed.append(dict(fault, id=fid))
            elif fault["kind"] == "drop_ws":
                self._applied["drop_ws"] += 1
                self._ws_refused_until = max(self._ws_refused_until, now + fault["refuse_ms"] / 1000)
            else:
                self._applied["upstream_down"] += 1
                self._down_until = max(self._down_until, now + fault["ms"] / 1000)
                self._down_mode = fault["mode"]
            return fid

    def take(self, path):
        """The armed request fault that hits this request (its count taken), or None."""
        with self._lock:
            for f in self._armed:
                if f["path"] is None or f["path"] == path:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self._armed.remove(f)
                    self._applied[f["kind"]] += 1
                    return dict(f)
            return None

    def down_mode(self):
        """"reset" or "502" while upstream_down lasts, else None."""
        with self._lock:
            return self._down_mode if time.monotonic() < self._down_until else None

    def ws_refusal(self):
        """Why a new WebSocket connection is refused now: "reset", "502", "503" or None."""
        with self._lock:
            now = time.monotonic()
            if now < self._down_until:
                return self._down_mode
            return "503" if now < self._ws_refused_until else None

    def count_forwarded(self, path):
        with self._lock:
            self._forwarded[path] = self._forwarded.get(path, 0) + 1

    def count_refused(self, what):
        with self._lock:
            self._refused[what] += 1

    def count_ws(self, what, n=1):
        with self._lock:
            self._ws[what] += n

    def snapshot(self, ws_open):
        with self._lock:
            now = time.monotonic()
            return {"applied": dict(self._applied), "forwarded": dict(self._forwarded),
                    "armed": [dict(f) for f in self._armed], "refused": dict(self._refused),
                    "ws": dict(self._ws, open=ws_open),
                    "upstream_down_ms_left": max(0, int((self._down_until - now) * 1000)),
                    "ws_refused_ms_left": max(0, int((self._ws_refused_until - now) * 1000))}
