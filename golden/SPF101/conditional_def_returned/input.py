"""Pick a parser for a format name."""


def pick_parser(fmt):
    if fmt == "int":
        def parse(text):
            return int(text.strip())
        return parse
    return str.strip


INT_PARSER = pick_parser("int")
