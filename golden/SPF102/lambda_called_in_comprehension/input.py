"""Element-wise helpers."""


def doubled(xs):
    return [(lambda v: v * 2)(x) for x in xs]


def doubled_sum(xs):
    values = doubled(xs)
    return sum(values), len(values)


DATA = doubled([1, 2, 3])
