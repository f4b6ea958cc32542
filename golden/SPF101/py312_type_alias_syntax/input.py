"""Pairs, typed with Python 3.12 syntax."""

type Pair = tuple[int, int]


def swap_all(pairs):
    def swap(p):
        return (p[1], p[0])

    return [swap(p) for p in pairs]
