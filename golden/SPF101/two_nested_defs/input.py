"""Descriptive statistics."""


def stats(values):
    def mean(xs):
        return sum(xs) / len(xs)

    def spread(xs):
        return max(xs) - min(xs)

    if not values:
        return None
    return {"mean": mean(values), "spread": spread(values)}
