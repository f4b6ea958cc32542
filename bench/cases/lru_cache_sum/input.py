"""A pure function without parameters summing range(100): memoized with lru_cache."""


def total():
    return sum(range(100))


def report(prefix):
    return prefix + str(total())
