import functools

SIZE = 64


def squares():
    return tuple(i * i for i in range(SIZE))


@functools.lru_cache(maxsize=None)
def already_cached():
    return sum(range(1000))


def square_of(i):
    return squares()[i] + already_cached()
