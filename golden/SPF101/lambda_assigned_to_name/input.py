"""Mean of squares, the slow way."""


def summarize(values):
    square = lambda v: v * v
    total = 0
    for v in values:
        total += square(v)
    return total / len(values) if values else 0.0


def report(values):
    return "mean square: %.3f" % summarize(values)
