"""Geometry with call tracing."""
import functools

CALLS = []


def traced(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        CALLS.append(func.__name__)
        return func(*args, **kwargs)
    return wrapper


@traced
def area(shape, size):
    def square(s):
        return s * s

    if shape == "square":
        return square(size)
    return round(3.14159 * square(size), 3)
