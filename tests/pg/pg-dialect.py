"""pg-dialect.py: the SQLite-only parts of the e2e tests' own queries, in
PostgreSQL's words (stdin to stdout; used by pg-sqlite3.sh).

group_concat(x[, sep]) becomes string_agg, ordered by id when the query
ends with ORDER BY id (SQLite concatenates in that order), else by x;
strftime('%s', 'now') the epoch."""
import re
import sys

t = sys.stdin.read()
if "group_concat" in t:
    by_id = re.search(r"\s+ORDER BY id\s*$", t)
    t = re.sub(r"\s+ORDER BY id\s*$", "", t)

    def agg(m):
        sep = m.group(2) or "','"
        return "string_agg(CAST(%s AS TEXT), %s ORDER BY %s)" % (m.group(1), sep, "id" if by_id else m.group(1))

    t = re.sub(r"group_concat\(([^,()]+)(?:,\s*('[^']*'))?\)", agg, t)
t = re.sub(r"strftime\('%s',\s*'now'\)", "CAST(extract(epoch FROM now()) AS BIGINT)", t)
print(t, end="")
