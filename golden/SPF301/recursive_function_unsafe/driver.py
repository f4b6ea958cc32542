from input import _fib, fib_table

print(fib_table(), fib_table(), _fib(15))
