"""Aligned key/value output."""

DEFAULT_WIDTH = 8


def render(pairs):
    def pad(text, width=DEFAULT_WIDTH):
        return str(text).ljust(width, ".")

    lines = []
    for key, value in pairs:
        lines.append(pad(key) + " " + str(value))
    return "\n".join(lines)
