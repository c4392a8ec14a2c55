"""A jobcast processor in Python: the rows of each uploaded CSV file go into SQLite.

This is the classic upload endpoint (a FastAPI route looping over the uploaded files and
writing their rows to a database) as a jobcast processor: jobcast receives the upload,
queues it, and calls process() once per file, while browsers watch per-file progress live.

    npm start -- --processor-dir examples/python --processor csv_to_sqlite

The database connection below is opened once, when jobcast starts this script, and is
reused for every file it processes. Rows land in data/rows.sqlite3 (or $CSV_DB), table
`rows`: one row per CSV line, the line's fields as a JSON object keyed by the header.
"""

import csv
import json
import os
import sqlite3

from jobcast_processor import run

DB_PATH = os.environ.get("CSV_DB", os.path.join("data", "rows.sqlite3"))
BATCH = 1000

os.makedirs(os.path.dirname(DB_PATH) or ".", exist_ok=True)
db = sqlite3.connect(DB_PATH)
db.execute("CREATE TABLE IF NOT EXISTS rows (job TEXT, file TEXT, line INTEGER, data TEXT)")
db.commit()


def decoded_lines(binary, counter):
    """The file's lines as text, counting the bytes read so far (for progress)."""
    for number, raw in enumerate(binary):
        counter[0] += len(raw)
        yield raw.decode("utf-8-sig" if number == 0 else "utf-8", errors="replace")


def process(file, ctx):
    read = [0]
    rows = 0
    with open(file.path, "rb") as binary:
        reader = csv.reader(decoded_lines(binary, read))
        header = next(reader, None)
        if header is None:
            return {"rows": 0, "columns": []}
        batch = []
        try:
            for line, fields in enumerate(reader, start=2):
                batch.append((ctx.job_id, file.name, line, json.dumps(dict(zip(header, fields)))))
                if len(batch) == BATCH:
                    db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", batch)
                    rows += len(batch)
                    batch.clear()
                    ctx.progress(read[0], file.size)
                    ctx.check_cancelled()
            db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", batch)
            rows += len(batch)
            # One transaction per file: a file lands whole, or (failed, cancelled) not at all.
            db.commit()
        except BaseException:
            db.rollback()
            raise
    ctx.log(f"{file.name}: {rows} rows into {DB_PATH}")
    return {"rows": rows, "columns": header, "database": DB_PATH}


run(process)
