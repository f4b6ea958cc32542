"""Apply a step function twice to every value."""


def apply_twice(func, value):
    return func(func(value))


def process(values):
    def inc(x):
        return x + 1

    return [apply_twice(inc, v) for v in values]
