"""A key function built once per element of a constant tuple."""


def ordered():
    return [sorted(["b", "a", "c"], key=lambda s: s.upper()) for _ in ("x", "y", "z")]
