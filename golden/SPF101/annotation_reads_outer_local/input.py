"""Split text records of a given kind."""


def parse_all(texts, kind):
    def parse(text: kind) -> list:
        return text.split(",")

    return [parse(t) for t in texts]


def parse_strs(texts):
    return parse_all(texts, str)
