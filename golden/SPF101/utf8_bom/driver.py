import input as m

print(m.to_fahrenheit([0, 37, -40, 21.5]))
print(m.warmest([3, 9, 1]))
