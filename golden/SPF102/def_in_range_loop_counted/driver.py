from input import score

print(score([1, 2, 3]), score([]))
