"""
Loaded by the moto_server the embedded cloud starts (PYTHONPATH points here), before moto
itself: fixes one hot path of moto's SQS without changing what it answers.

moto 5's Queue.attributes builds every attribute of the queue on each access, and three of
them count the queued messages (each message's visibility and delay read the clock). Every
SendMessage reads it three to six times for ContentBasedDeduplication alone, so sending to a
FIFO queue costs O(messages queued) and a burst O(n^2): 43 messages/s into a fresh FIFO queue,
23/s by its thousandth message, where the failure detector publishes thousands of leadership
events after a large failover. Here a lookup of one attribute computes only that one; a
reader of all of them (GetQueueAttributes, iteration) gets exactly what moto computed before.

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

    class LazyQueueAttributes(Mapping):
        __slots__ = ("_queue", "_all")

        def __init__(self, queue):
            self._queue = queue
            self._all = None

        def _everything(self):
            if self._all is None:
                self._all = compute_all(self._queue)
            return self._all

        def get(self, key, default=None):
            # The FIFO settings: one attribute each, no message counts involved (a standard
            # queue has none of them, as moto's full listing says).
            if key in queue_class.FIFO_ATTRIBUTES:
                if not self._queue.fifo_queue:
                    return default
                value = getattr(self._queue, to_field(key), default)
                return str(value).lower() if isinstance(value, bool) else value
            return self._everything().get(key, default)

        def __getitem__(self, key):
            return self._everything()[key]

        def __contains__(self, key):
            return key in self._everything()

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
