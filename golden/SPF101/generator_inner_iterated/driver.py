import input as m

print(m.chunked_sums(list(range(10)), 3))
print(m.chunked_max([5, 1, 9, 2], 2))
print(m.chunked_max([], 4))
try:
    m.chunked_sums([1], 0)
except ValueError as exc:
    print("ValueError", exc)
