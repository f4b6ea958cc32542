from input import squares

print(squares()[:5], len(squares()), squares() == squares())
