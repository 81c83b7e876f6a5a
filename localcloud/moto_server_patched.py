"""
moto_server with one fix for the embedded cloud: TransactWriteItems keeps its rollback
snapshot per table and per transaction, not per item.

moto 5.2 deep-copies the whole table (every item and every stream record ever written)
once for EACH item of a transaction. A 22-item append to a log table that holds a few
thousand records then holds the interpreter for seconds, every other request waits, and
healthy brokers' leases lapse. One snapshot per table per transaction restores exactly
the same state on rollback; stream records, which moto never changes once written, are
shared with the snapshot by a copy of the list rather than deep-copied.
"""
import copy
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table

_transaction = threading.local()


def _table_deepcopy(self, memo):
    snapshots = getattr(_transaction, "snapshots", None)
    if snapshots is not None and id(self) in snapshots:
        return snapshots[id(self)]
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        setattr(clone, name, copy.deepcopy(value, memo))
    if snapshots is not None:
        snapshots[id(self)] = clone
    return clone


def _shard_deepcopy(self, memo):
    clone = copy.copy(self)
    clone.table = memo.get(id(self.table), self.table)
    clone.items = list(self.items)
    return clone


_original_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    _transaction.snapshots = {}
    try:
        return _original_transact_write_items(self, transact_items)
    finally:
        _transaction.snapshots = None


Table.__deepcopy__ = _table_deepcopy
StreamShard.__deepcopy__ = _shard_deepcopy
DynamoDBBackend.transact_write_items = _transact_write_items

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
