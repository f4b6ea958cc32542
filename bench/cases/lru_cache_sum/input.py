"""A pure function without parameters summing range(100): memoized with lru_cache."""


def total():
    return sum(range(100))


def report():
    return "total=%d" % total()
