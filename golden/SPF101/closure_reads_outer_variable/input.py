"""Threshold filtering."""


def threshold_filter(values, limit):
    def ok(v):
        return v <= limit

    return [v for v in values if ok(v)]


def small(values):
    return threshold_filter(values, 10)
