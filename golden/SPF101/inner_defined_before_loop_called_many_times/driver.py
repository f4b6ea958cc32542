import input as m

print(m.clamp_series([-5, 50, 500]))
print(m.clamp_series([1, 2, 3], lo=2, hi=2))
