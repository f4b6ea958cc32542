"""Chunked aggregation."""


def chunked_sums(data, size):
    def chunks(seq, n):
        for start in range(0, len(seq), n):
            yield seq[start:start + n]

    return [sum(chunk) for chunk in chunks(data, size)]


def chunked_max(data, size):
    return max(chunked_sums(data, size), default=None)
