"""Scale values with map."""


def scale_values(values, k):
    return list(map(lambda x, k=k: x * k, values))


def halves(values):
    return scale_values(values, 0.5)


def tripled(values):
    return scale_values(values, 3)
