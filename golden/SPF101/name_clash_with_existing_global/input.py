"""Merge two settings dicts."""


def _merge_pick(a, b):
    """Legacy helper kept for plugins: prefers the first value."""
    return a if a is not None else b


def merge(base, override):
    def pick(x, y):
        return y if y is not None else x

    keys = sorted(set(base) | set(override))
    return {k: pick(base.get(k), override.get(k)) for k in keys}
