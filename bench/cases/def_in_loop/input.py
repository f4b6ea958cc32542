"""A def built on every iteration of a 10-iteration loop."""


def squares():
    out = []
    for i in range(10):
        def square(x):
            return x * x

        out.append(square(i))
    return out
