"""Clamp a series into a range."""


def clamp_series(values, lo=0, hi=100):
    def clamp(v, lo_, hi_):
        if v < lo_:
            return lo_
        if v > hi_:
            return hi_
        return v

    out = []
    for v in values:
        out.append(clamp(v, lo, hi))
    return out
