"""SQL snippets for the reporting job."""


def build_query(table, limit):
    def select_clause(columns):
        sql = """SELECT
%s
FROM""" % ",\n".join("    " + c for c in columns)
        return sql

    cols = ["id", "name", "created"]
    return "%s %s LIMIT %d" % (select_clause(cols), table, limit)
