"""Fixed-width table rendering."""


def format_table(rows):
    def cell(value, width=10, fill=" ", seps=("|", "+"), *, right=False):
        text = str(value)
        text = text.rjust(width, fill) if right else text.ljust(width, fill)
        return seps[0] + text

    lines = []
    for name, qty in rows:
        lines.append(cell(name) + cell(qty, 5, right=True) + "|")
    return "\n".join(lines)
