"""Run a snippet that may call a local helper."""

OUTPUT = []


def run_snippet(code):
    def emit(msg):
        OUTPUT.append(str(msg))

    exec(code)
    return len(OUTPUT)


run_snippet("emit('hello')")
