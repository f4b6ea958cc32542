"""Triangle numbers."""


def triangle():
    return sum(range(100))


def report():
    return "T(99) = %d" % triangle()
