def greet(names):
    def polite(name):
        return "Dear " + name.title()

    return [polite(n) for n in names]


def greet_one(name):
    """Greeting for a single recipient."""
    return greet([name])[0]


GREETINGS = greet(["ada lovelace", "alan"])
