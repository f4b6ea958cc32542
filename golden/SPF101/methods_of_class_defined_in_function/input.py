"""Build a point class for a given dimension."""


def make_point_class(dims):
    class Point:
        def __init__(self, *coords):
            self.coords = coords

        def norm2(self):
            return sum(c * c for c in self.coords)

        key = staticmethod(lambda p: p.norm2())

    Point.dims = dims
    return Point
