from input import header, is_keyword

print(header(b"\x01\x00\x02\x00\x00\x00"), is_keyword("if"), is_keyword("x"))
