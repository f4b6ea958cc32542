"""Flatten nested lists."""


def flatten(nested):
    def walk(node, out):
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child, out)
        else:
            out.append(node)
        return out

    return walk(nested, [])
