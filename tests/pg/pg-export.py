"""pg-export.py URI TEMPLATE OUT: a PostgreSQL state's rows as an SQLite
database, for the e2e tests' read-only sqlite3 queries (pg-sqlite3.sh).

TEMPLATE is an SQLite opencapf database of the same schema version (made by
e2e-pg.sh); OUT becomes a copy of it with its triggers dropped and every
table's rows replaced by those of the PostgreSQL state at URI, read with
psql's COPY (text format: NULL is \\N, bytea as hex). The tables SQLite reads
in rowid order keep their rowid. Exits non-zero on any failure."""
import re
import shutil
import sqlite3
import subprocess
import sys

uri, template, out = sys.argv[1:4]
ESC = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "\\": "\\"}


def psql(sql):
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", uri, "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def unescape(field):
    if field == "\\N":
        return None
    return re.sub(r"\\([0-7]{1,3}|.)",
                  lambda m: chr(int(m.group(1), 8)) if m.group(1)[0] in "01234567" else ESC.get(m.group(1), m.group(1)),
                  field)


shutil.copyfile(template, out)
db = sqlite3.connect(out)
for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
    db.execute('DROP TRIGGER "%s"' % name)
pg_cols = {}
for line in psql("SELECT table_name, column_name, data_type FROM information_schema.columns "
                 "WHERE table_schema = current_schema()").splitlines():
    t, c, typ = line.split("|")
    pg_cols.setdefault(t, {})[c] = typ
for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall():
    db.execute('DELETE FROM "%s"' % table)
    cols = [r[1] for r in db.execute('PRAGMA table_info("%s")' % table)]
    if table not in pg_cols:
        continue
    if "rowid" in pg_cols[table]:
        cols = ["rowid"] + cols
    sel = ", ".join("encode(%s, 'hex')" % c if pg_cols[table].get(c) == "bytea" else c for c in cols)
    text = subprocess.run(["psql", "-X", "-q", uri, "-c", "COPY (SELECT %s FROM %s) TO STDOUT" % (sel, table)],
                          check=True, capture_output=True, text=True).stdout
    rows = []
    for line in text.split("\n"):
        if not line:
            continue
        vals = [unescape(f) for f in line.split("\t")]
        rows.append([bytes.fromhex(v) if v is not None and pg_cols[table].get(c) == "bytea" else v
                     for c, v in zip(cols, vals)])
    db.executemany('INSERT INTO "%s" (%s) VALUES (%s)' % (table, ", ".join(cols), ", ".join("?" * len(cols))), rows)
db.commit()
db.close()
