"""Distances from the origin."""
import math


def distances(points):
    def norm(x, y):
        return math.hypot(x, y)

    return [round(norm(x, y), 4) for x, y in points]


def farthest(points):
    pairs = list(zip(distances(points), points))
    return max(pairs)[1] if pairs else None
