def _fib(n):
    if n < 2:
        return n
    return _fib(n - 1) + _fib(n - 2)


def fib_table():
    return _fib(20), _fib(25)
