"""2-D points."""


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return "Point(%r, %r)" % (self.x, self.y)


def centroid(points):
    def add(a: Point, b: Point) -> Point:
        return Point(a.x + b.x, a.y + b.y)

    total = Point(0, 0)
    for p in points:
        total = add(total, p)
    return Point(total.x / len(points), total.y / len(points))
