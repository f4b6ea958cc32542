from input import norms

print(norms())
