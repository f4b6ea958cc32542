"""Tab-indented module from an old code base."""


def encode_row(values):
	def quote(field):
		text = str(field)
		if "," in text or '"' in text:
			return '"' + text.replace('"', '""') + '"'
		return text

	return ",".join(quote(v) for v in values)


def encode_table(rows):
	return "\n".join(encode_row(r) for r in rows)
