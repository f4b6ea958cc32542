import input

print(input.outer())
