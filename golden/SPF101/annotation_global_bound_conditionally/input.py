import os

if os.environ.get("NEVER_SET_XYZ"):
    from collections import OrderedDict as Mapping


def outer():
    def inner(x: Mapping = None):
        return x
    return inner()
