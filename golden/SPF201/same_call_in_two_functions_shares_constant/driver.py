from input import is_int, ints

print(is_int("-12"), is_int("x"), ints("a 1 b -2"))
