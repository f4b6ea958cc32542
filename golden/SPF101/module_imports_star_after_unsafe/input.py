def pluralize(n, word):
    def plural(w):
        return w + "s"

    return word if n == 1 else plural(word)


try:
    from _speedups import *
except ImportError:
    pass
