"""
Loaded by the moto_server the embedded cloud starts (PYTHONPATH points here), before moto
itself. Two changes:

1. moto answers loopback clients only (_guard_moto_app, below): its port is unauthenticated
   and reachable from any web page after a port scan, and same-origin after DNS rebinding.
2. One hot path of moto's SQS is fixed without changing what it answers:

moto 5's Queue.attributes builds every attribute of the queue on each access, and three of
them count the queued messages (each message's visibility and delay read the clock). Every
SendMessage reads it three to six times for ContentBasedDeduplication alone, so sending to a
FIFO queue costs O(messages queued) and a burst O(n^2): 43 messages/s into a fresh FIFO queue,
23/s by its thousandth message, where the failure detector publishes thousands of leadership
events after a large failover. ReceiveMessage is worse: for every message it hands out it asks
GetQueueAttributes for MessageRetentionPeriod, three full builds, so with 3,000 messages queued
one receive of 10 and its delete took 2.2 s and draining the detector's events took minutes.
Here a lookup of one attribute computes only that one; a reader of all of them
(GetQueueAttributes "All", iteration) gets exactly what moto computed before.

Defensive: if moto's internals are not as expected, this one is not applied and moto's SQS
runs as it is. The guard is not optional: without it moto_server exits (see the end).
"""

import json
import os
import re
import sys

# Host header names a loopback client reaches moto by, with any port: the edge's proxy
# forwards its own client's Host (e.g. localhost:4566), which also names moto's queue URLs.
_LOOPBACK_HOST_NAMES = frozenset(("localhost", "127.0.0.1", "[::1]"))
_HOST = re.compile(r"(\[[^\]]*\]|[^:\[\]]+)(?::\d{1,5})?")
# Fetch metadata of a request a browser made for another site's page (an <img>, a GET form:
# no Origin).
_FOREIGN_FETCH_SITES = frozenset(("cross-site", "same-site"))
# Longest part of a header echoed in a refusal: enough to recognize it, not a reflection channel.
_ECHO_LIMIT = 100


def _echo(value):
    return value if len(value) <= _ECHO_LIMIT else value[:_ECHO_LIMIT] + "..."


def _browser_refusal(environ):
    """
    Why moto refuses this request, as the edge and DynamoDB Local's launcher do, or None: a
    Host that is not a loopback name (a DNS-rebinding page sends its own; a repeated Host
    arrives comma-joined and is refused too), any Origin (web pages send one, the SDKs and
    CLIs never do), a Sec-Fetch-Site of cross-site or same-site, OPTIONS (a CORS preflight).
    """
    host = environ.get("HTTP_HOST")
    match = _HOST.fullmatch(host.lower()) if host is not None else None
    if match is None or match.group(1) not in _LOOPBACK_HOST_NAMES:
        got = "no Host" if host is None else "Host: " + _echo(host)
        return (
            "moto answers only Host localhost, 127.0.0.1 or [::1], got " + got + ": "
            "a DNS name pointed at loopback is refused"
        )
    if "HTTP_ORIGIN" in environ:
        return (
            "moto refuses requests from web pages (Origin: " + _echo(environ["HTTP_ORIGIN"]) + "): "
            "it is an unauthenticated admin API for loopback clients such as the AWS SDKs and CLIs, "
            "which send no Origin"
        )
    fetch_site = environ.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None and fetch_site.lower() in _FOREIGN_FETCH_SITES:
        return (
            "moto refuses requests a browser makes for another site's page (Sec-Fetch-Site: "
            + _echo(fetch_site) + ")"
        )
    if environ.get("REQUEST_METHOD", "").upper() == "OPTIONS":
        return "moto answers no OPTIONS (CORS preflight): browsers may not call it"
    return None


def _refuse(start_response, refusal):
    """403 with the edge's AWS-style JSON error; <, > and & escaped too, so no sniffer sees markup."""
    text = json.dumps({"__type": "AccessDeniedException", "message": refusal}, separators=(",", ":"))
    body = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode("ascii")
    start_response(
        "403 Forbidden",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("x-amzn-errortype", "AccessDeniedException"),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )
    return [body]


def _guard_moto_app():
    """
    Every request moto_server serves passes DomainDispatcherApplication.__call__ (moto/server.py
    wraps its backends in one and hands it to werkzeug's run_simple), so the refusals go in
    front of it: no backend, /moto-api/ included, sees a refused request.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    dispatch = DomainDispatcherApplication.__dict__["__call__"]

    def guarded(self, environ, start_response):
        refusal = _browser_refusal(environ)
        if refusal is not None:
            return _refuse(start_response, refusal)
        return dispatch(self, environ, start_response)

    guarded.__wrapped__ = dispatch
    DomainDispatcherApplication.__call__ = guarded


def _patch_sqs_queue_attributes():
    from collections.abc import Mapping

    from moto.sqs import models

    queue_class = getattr(models, "Queue", None)
    original = queue_class.__dict__.get("attributes") if queue_class else None
    if not isinstance(original, property) or original.fget is None:
        return
    to_field = getattr(models, "camelcase_to_underscores", None)
    if to_field is None:
        return
    compute_all = original.fget
    # Every base attribute but the two moto fills in afterwards from other fields when set.
    single_base = set(getattr(queue_class, "BASE_ATTRIBUTES", ())) - {"Policy", "RedrivePolicy"}

    class LazyQueueAttributes(Mapping):
        __slots__ = ("_queue", "_all")

        def __init__(self, queue):
            self._queue = queue
            self._all = None

        def _everything(self):
            if self._all is None:
                self._all = compute_all(self._queue)
            return self._all

        def _one(self, key):
            """(present, value) of one attribute as moto's full listing has it; None: build them all."""
            if key in single_base:
                # Listed for every queue: DelaySeconds, MessageRetentionPeriod, a message count...
                value = getattr(self._queue, to_field(key))
            elif key in queue_class.FIFO_ATTRIBUTES:
                # Listed for FIFO queues only, as moto's full listing says.
                if not self._queue.fifo_queue:
                    return (False, None)
                value = getattr(self._queue, to_field(key))
            else:
                return None
            return (True, str(value).lower() if isinstance(value, bool) else value)

        def get(self, key, default=None):
            one = self._one(key)
            if one is None:
                return self._everything().get(key, default)
            present, value = one
            return value if present else default

        def __getitem__(self, key):
            one = self._one(key)
            if one is None:
                return self._everything()[key]
            present, value = one
            if not present:
                raise KeyError(key)
            return value

        def __contains__(self, key):
            one = self._one(key)
            return key in self._everything() if one is None else one[0]

        def __iter__(self):
            return iter(self._everything())

        def __len__(self):
            return len(self._everything())

        def __eq__(self, other):
            return dict(self._everything()) == other

    queue_class.attributes = property(lambda queue: LazyQueueAttributes(queue))


try:
    _guard_moto_app()
except Exception as error:  # noqa: BLE001 - an unguarded moto must not serve at all
    sys.stderr.write(
        "localcloud: cannot guard moto_server against web pages (DomainDispatcherApplication.__call__ "
        "not found in this moto version: %s: %s); not starting it\n" % (type(error).__name__, error)
    )
    sys.stderr.flush()
    os._exit(78)

try:
    _patch_sqs_queue_attributes()
except Exception:  # noqa: BLE001 - a failed speed-up must never stop moto from starting
    pass
