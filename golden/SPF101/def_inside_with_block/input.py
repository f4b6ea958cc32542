"""Read KEY=VALUE pairs from a text blob."""
import io


def read_pairs(text):
    with io.StringIO(text) as fh:
        def split_line(line):
            key, _, value = line.partition("=")
            return key.strip(), value.strip()
        pairs = [split_line(line) for line in fh if "=" in line]
    return dict(pairs)
