"""moto's server, applying one request at a time.

moto's DynamoDB TransactWriteItems snapshots whole tables with copy.deepcopy for its rollback,
without a lock: under concurrent requests the copy can crash ("dictionary changed size during
iteration") and a rollback can undo other requests' writes. DynamoDB applies every request
atomically, so serialising requests inside the emulator gives the semantics the code relies on,
while clients still send concurrently (the server stays threaded; only the app call is locked).

moto also keeps every model object it ever created, for its /moto-api/data.json dump; with
DynamoDB that includes each item of every table snapshot above, so memory and the dump grow
without bound over a long run (the demo). DynamoDB objects are left out of that registry (tables
and items stay fully served; data.json is read for SES messages only).

Usage: python scripts/moto_server.py -H 127.0.0.1 -p PORT   (the same flags as moto_server)
"""

import threading

import moto.server
from moto.core.common_models import BaseModel

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

if __name__ == "__main__":
    moto.server.main()
