from input import limit

print(limit())
