"""A bare nested def: no defaults, no annotations, no decorator."""


def total_length(words):
    def size(word):
        return len(word)

    n = 0
    for w in words:
        n += size(w)
    return n
