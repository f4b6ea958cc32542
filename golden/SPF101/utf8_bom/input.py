"""Temperature conversions (saved by an editor that writes a BOM)."""


def to_fahrenheit(readings):
    # °C → °F
    def convert(celsius):
        label = "°F"
        return "%.1f%s" % (celsius * 9 / 5 + 32, label)

    return [convert(c) for c in readings]


def warmest(readings):
    return max(readings, default=None)
