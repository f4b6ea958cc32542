def _pairs():
    return ((a, b) for a in "abc" for b in "xyz")


def _items():
    return iter(tuple(range(100)))


def count():
    return len(list(_pairs())) + len(list(_items()))
