"""A text cleaning pipeline."""


def clean(text):
    def strip(s):
        return s.strip()

    def lower(s):
        return s.lower()

    steps = [strip, lower]
    for step in steps:
        text = step(text)
    return text
