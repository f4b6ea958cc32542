"""Midpoints of 2-D vectors."""


def midpoint(a, b):
    def half(p: Vec, q: Vec) -> Vec:
        return Vec((p.x + q.x) / 2, (p.y + q.y) / 2)

    return half(a, b)


class Vec:
    def __init__(self, x, y):
        self.x, self.y = x, y
