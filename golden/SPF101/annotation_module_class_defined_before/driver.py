import input as m

print(m.centroid([m.Point(0, 0), m.Point(2, 4), m.Point(4, 2)]))
try:
    m.centroid([])
except ZeroDivisionError as exc:
    print("ZeroDivisionError", exc)
