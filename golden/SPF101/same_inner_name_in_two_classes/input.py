"""Two tokenizers with the same method layout."""


class CommaTokens:
    def split(self, line):
        def clean(tok):
            return tok.strip()

        return [clean(t) for t in line.split(",")]


class ColonTokens:
    def split(self, line):
        def clean(tok):
            return tok.strip().upper()

        return [clean(t) for t in line.split(":")]
