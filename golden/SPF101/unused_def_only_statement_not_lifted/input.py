"""Shutdown hooks for the worker pool."""

HOOKS = []


def on_shutdown(pool):
    def flush(entries):
        for entry in entries:
            entry.close()


def register(hook):
    HOOKS.append(hook)
    return len(HOOKS)


register(on_shutdown)
