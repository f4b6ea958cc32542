"""Running total with a nested accumulator."""


def running_total(items):
    total = 0

    def add(x):
        nonlocal total
        total += x

    for item in items:
        add(item)
    return total
