"""Scaling with a per-call factor."""


def scale_all(values, n):
    def scale(x, n=n):
        return x * n

    return [scale(v) for v in values]


def doubled(values):
    return scale_all(values, 2)
