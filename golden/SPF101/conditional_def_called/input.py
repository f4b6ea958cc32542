"""Normalisation strategies."""


def normalize(values, mode="minmax"):
    if mode == "minmax":
        def scale(v, lo, hi):
            return (v - lo) / (hi - lo) if hi != lo else 0.0
        lo, hi = min(values), max(values)
        return [scale(v, lo, hi) for v in values]
    return list(values)


def describe(values):
    return ["%.2f" % v for v in normalize(values)]
