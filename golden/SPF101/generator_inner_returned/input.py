"""Counter factory."""


def make_counter(limit_text):
    def count_up(n):
        i = 0
        while i < n:
            yield i
            i += 1

    return count_up


COUNT = make_counter("3")
