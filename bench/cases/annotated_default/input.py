"""A nested def with annotations and a default: both are evaluated on every call."""


def scale_all(values):
    def scale(x: float, factor: float = 2.0) -> float:
        return x * factor

    out = []
    for v in values:
        out.append(scale(v))
    return out
