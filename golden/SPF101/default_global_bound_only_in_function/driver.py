import input

input.setup()
print(input.outer())
