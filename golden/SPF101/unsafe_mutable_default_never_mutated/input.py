"""Join table rows into lines."""


def join_fields(rows):
    def join(parts, seps=[", "]):
        return seps[0].join(str(p) for p in parts)

    return [join(r) for r in rows]


def as_text(rows):
    return "\n".join(join_fields(rows))
