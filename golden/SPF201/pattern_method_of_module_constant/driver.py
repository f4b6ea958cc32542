from input import collapse, collapsed_example

print(collapsed_example(), collapse("x  y"))
