"""moto's server, applying one request at a time.

moto's DynamoDB TransactWriteItems snapshots whole tables with copy.deepcopy for its rollback,
without a lock: under concurrent requests the copy can crash ("dictionary changed size during
iteration") and a rollback can undo other requests' writes. DynamoDB applies every request
atomically, so serialising requests inside the emulator gives the semantics the code relies on,
while clients still send concurrently (the server stays threaded; only the app call is locked).

Its TransactWriteItems also deep-copies every table it touches, once per action, before it
applies anything, so each transaction costs time in proportion to the table's size: a long run
(the demo) slows down quadratically. Here a transaction keeps copies of just the items it
touches and restores those on failure (requests are serialised, so nothing else can have
changed them meanwhile), which is all DynamoDB's all-or-nothing needs.

moto also keeps every model object it ever created, for its /moto-api/data.json dump; with
DynamoDB that includes each item of every table snapshot above, so memory and the dump grow
without bound over a long run (the demo). DynamoDB objects are left out of that registry (tables
and items stay fully served; data.json is read for SES messages only).

Usage: python scripts/moto_server.py -H 127.0.0.1 -p PORT   (the same flags as moto_server)
"""

import copy
import threading

import moto.dynamodb.models as dynamodb_models
import moto.server
from moto.core.common_models import BaseModel
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_lock = threading.Lock()
_run_simple = moto.server.run_simple


class SerializedApp:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        with _lock:
            # Materialise the response inside the lock: the app may be lazy.
            return list(self.app(environ, start_response))


def run_simple(host, port, app, **kwargs):
    _run_simple(host, port, SerializedApp(app), **kwargs)


moto.server.run_simple = run_simple


def _tracked_new(cls, *args, **kwargs):
    instance = object.__new__(cls)
    if not cls.__module__.startswith("moto.dynamodb"):
        cls.instances_tracked.append(instance)
    return instance


BaseModel.__new__ = _tracked_new


class _CopyWithoutTables:
    """The copy module as moto.dynamodb.models sees it: a table "deep copy" is the table itself."""

    def deepcopy(self, value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


dynamodb_models.copy = _CopyWithoutTables()
_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def _transact_with_item_undo(self, transact_items):
    undo = []
    for action in transact_items:
        try:
            _, op = next(iter(action.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or op.get("Item") or {}
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            before = copy.deepcopy(table.get_item(hash_value, range_value))
        except Exception:
            continue  # a malformed action: moto rejects it before writing anything
        undo.append((table, hash_value, range_value, before))
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for table, hash_value, range_value, before in reversed(undo):
            items = table.items[hash_value] if range_value is not None else table.items
            key = range_value if range_value is not None else hash_value
            if before is None:
                items.pop(key, None)
            else:
                items[key] = before
        raise


dynamodb_models.DynamoDBBackend.transact_write_items = _transact_with_item_undo

if __name__ == "__main__":
    moto.server.main()
