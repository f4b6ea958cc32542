import input as m

print(m.distances([(3, 4), (1, 1), (0, 0)]))
print(m.farthest([(1, 2), (-5, 0)]), m.farthest([]))
