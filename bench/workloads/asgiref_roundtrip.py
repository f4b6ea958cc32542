"""An asgiref workload: round trips between the two worlds, as a Django view or an ASGI adapter
makes them: an event loop awaits sync functions through `sync_to_async` (thread-sensitive and
not), and sync code calls coroutines through `async_to_sync`, with contextvars and Local state
carried across. Prints a digest of every result.

    spipfix optimize '/usr/bin/python3 "$SPIPFIX_CWD/bench/workloads/asgiref_roundtrip.py"' \
        /usr/lib/python3/dist-packages/asgiref
"""
import asyncio
import contextvars
import hashlib
import os
import sys

import asgiref
from asgiref.local import Local
from asgiref.sync import async_to_sync, sync_to_async

tree = os.environ.get("SPIPFIX_TREE")
if tree and not asgiref.__file__.startswith(tree + os.sep):
    raise SystemExit(f"imported {asgiref.__file__}, not the tree under test {tree}")

request_id = contextvars.ContextVar("request_id", default=0)
local = Local()


def view(i):
    local.value = i
    return i * 2 + request_id.get()


async def middleware(i):
    request_id.set(i)
    a = await sync_to_async(view)(i)
    b = await sync_to_async(view, thread_sensitive=False)(i)
    return a + b


def sync_handler(i):
    return async_to_sync(middleware)(i)


async def main(n):
    digest = hashlib.sha256()
    for i in range(n):
        digest.update(str(await middleware(i)).encode())
    return digest


n = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
digest = asyncio.run(main(n))
for i in range(n // 5):
    digest.update(str(sync_handler(i)).encode())
print(n, digest.hexdigest())
