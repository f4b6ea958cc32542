"""A tiny rolling checksum."""


def checksum(data):
    total = 0
    # Fold one byte into the running sum; kept small on purpose
    # so the loop below stays readable.
    def fold(acc, byte):
        return (acc * 31 + byte) & 0xFFFFFFFF

    for byte in data:
        total = fold(total, byte)
    return total


def hexsum(data):
    return "%08x" % checksum(data)
