from input import total_length

print(total_length([[1], [2, 3]]))
