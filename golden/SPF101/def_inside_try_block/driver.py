import input as m

print(m.safe_ratio(1, 3))
print(m.safe_ratio(1, 0))
print(m.CALLS)
try:
    m.safe_ratio("a", 2)
except TypeError as exc:
    print("TypeError", exc)
