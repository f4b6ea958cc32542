"""Count words, case-insensitively."""


def tally(words):
    def bump(counts: dict, word: str, step: int = 1) -> None:
        counts[word] = counts.get(word, 0) + step

    counts: dict = {}
    for word in words:
        bump(counts, word.lower())
    bump(counts, "<total>", len(words))
    return counts
