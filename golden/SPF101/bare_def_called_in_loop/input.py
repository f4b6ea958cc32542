"""Word statistics for the help viewer."""


def word_lengths(text):
    def clean(word):
        return word.strip(".,;:!?").lower()

    result = {}
    for raw in text.split():
        word = clean(raw)
        if word:
            result[word] = len(word)
    return result


def longest_word(text):
    lengths = word_lengths(text)
    if not lengths:
        return None
    return max(sorted(lengths), key=lengths.get)
