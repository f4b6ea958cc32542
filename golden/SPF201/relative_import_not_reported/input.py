from .segment import Segment


def blank():
    return Segment("")
