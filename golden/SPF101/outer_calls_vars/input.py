"""Debug snapshot of a computation."""


def snapshot(a, b):
    def combine(x, y):
        return x * 10 + y

    result = combine(a, b)
    state = dict(vars())
    return sorted(k for k in state if not k.startswith("_"))
