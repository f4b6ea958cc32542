from input import words

print(words("x y z"))
