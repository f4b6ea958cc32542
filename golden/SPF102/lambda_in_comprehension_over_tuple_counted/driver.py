from input import ordered

print(ordered())
