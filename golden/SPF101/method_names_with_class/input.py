class Text:
    def __init__(self, words):
        def clean(w):
            return w.strip()

        self.words = tuple(map(clean, words))

    def render(self):
        def join(ws):
            return " ".join(ws)

        return join(self.words)


class Other:
    def render(self):
        def join(ws):
            return ",".join(ws)

        return join(("a", "b"))
