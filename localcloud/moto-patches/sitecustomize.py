"""
Loaded by the moto_server the embedded cloud starts (PYTHONPATH points here), before moto
itself: fixes one hot path of moto's SQS without changing what it answers.

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

Defensive: if moto's internals are not as expected, nothing is patched and moto runs as it is.
"""


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
    _patch_sqs_queue_attributes()
except Exception:  # noqa: BLE001 - a failed patch must never stop moto from starting
    pass
