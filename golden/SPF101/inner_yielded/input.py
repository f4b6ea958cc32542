"""Event handlers produced one by one."""


def handlers():
    def on_open(event):
        return "open " + event

    def on_close(event):
        return "close " + event

    yield on_open
    yield on_close
