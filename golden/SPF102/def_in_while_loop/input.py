"""Drain a work queue."""


def drain(queue):
    seen = []
    while queue:
        def describe(item):
            return "%s(%d)" % (type(item).__name__, len(str(item)))
        seen.append(describe(queue.pop()))
    return seen


def drain_copy(items):
    return drain(list(items))
