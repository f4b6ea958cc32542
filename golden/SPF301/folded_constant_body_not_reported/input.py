def _getauto():
    var = (
        ("BufAdd", "BufAdd"),
        ("BufCreate", "BufCreate"),
        ("BufDelete", "BufDelete"),
        ("BufEnter", "BufEnter"),
        ("BufFilePost", "BufFilePost"),
        ("BufFilePre", "BufFilePre"),
        ("BufHidden", "BufHidden"),
        ("BufLeave", "BufLeave"),
    )
    return var


def autos():
    return _getauto()
