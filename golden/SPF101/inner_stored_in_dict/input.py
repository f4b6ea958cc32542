"""Tiny command dispatcher."""


def dispatch(kind, payload):
    def on_add(p):
        return p + 1

    def on_neg(p):
        return -p

    table = {"add": on_add, "neg": on_neg}
    handler = table.get(kind)
    return handler(payload) if handler else None
