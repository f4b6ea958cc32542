"""Parse KEY=VALUE configuration lines."""


def load_config(lines):
    config = {}
    def debug_dump(mapping):
        for key in sorted(mapping):
            print(key, "=", mapping[key])

    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        config[key.strip()] = value.strip()
    return config
