"""Connections with a close hook."""


class Connection:
    def __init__(self, name):
        def default_close():
            return "closed"

        self.name = name
        self.on_close = default_close

    def close(self):
        return self.name + ": " + self.on_close()
