from input import digits

print(digits("a1b22"))
