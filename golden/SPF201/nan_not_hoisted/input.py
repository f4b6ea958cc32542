def missing():
    return float("nan")


def infinite():
    return float("inf")
