import struct


def header(data):
    fmt = struct.Struct("<HI")
    return fmt.unpack_from(data)


def is_keyword(word):
    return word in frozenset(("if", "else", "while"))
