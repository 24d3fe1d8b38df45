"""Spreadsheets made to take an import down (issue 11, point 1), built in memory in a moment:
an .xlsx file is a zip, so a few hundred KB can hold a 300 MB cell or millions of cells.
tests/test_import_limits.py uses them; run this file to measure what reading each one costs:

    DJANGO_SETTINGS_MODULE=worklog.settings python tests/upload_bombs.py [ROWS]

(BOMB_SECONDS, default 120, is how long one file may take; `ulimit -v` keeps memory in check.)

prints, per file, the seconds and the memory (peak resident size above the baseline, and
the tracemalloc peak) that worklog.imports.read_sheet takes to answer, and its answer. Each
file is read in a fresh process, so that one file's memory does not hide another's. With
`--web USER` instead of ROWS, each file is posted to the import page through
Django's test client (the whole request: middleware, view, template) as that user of the
database DATABASE_URL names (`manage.py seed --demo-password PW` makes leader-kaiganqi).
"""

import io
import zipfile

MB = 2**20

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_START = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_END = "</sheetData></worksheet>"
HEADER = "<row>" + "".join(f'<c t="inlineStr"><is><t>{name}</t></is></c>'
                           for name in ("date", "team", "activity", "notes")) + "</row>"


def workbook(sheet_parts, strings_parts=("",), string_count=0):
    """An .xlsx file whose first sheet's XML is the concatenation of `sheet_parts` (between
    the sheetData tags) and whose shared strings are `strings_parts`: the parts are streamed
    into the zip, so a part may repeat one piece a million times without being built."""
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", RELS),
                           ("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)):
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for piece in (SHEET_START, *sheet_parts, SHEET_END):
                part.write(piece.encode())
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                        f'openxmlformats.org/spreadsheetml/2006/main" count="{string_count}" '
                        f'uniqueCount="{string_count}">').encode())
            for piece in strings_parts:
                part.write(piece.encode())
            part.write(b"</sst>")
    return content.getvalue()


def _repeated(piece, times, chunk=1000):
    """`piece` `times` times over, in pieces of at most `chunk` repetitions."""
    while times > 0:
        yield piece * min(chunk, times)
        times -= chunk


def huge_shared_string(megabytes=300):
    """One cell holding a `megabytes` MB text, kept in the shared strings (307 KB packed)."""
    strings = ("<si><t>", *_repeated("A" * 1000, megabytes * MB // 1000), "</t></si>")
    row = '<row><c t="inlineStr"><is><t>2017-06-01</t></is></c><c t="s"><v>0</v></c></row>'
    return workbook([HEADER, row], strings, string_count=1)


def long_cell(characters=1_000_000):
    """A notes cell of `characters` characters: within the unpacked limit, over a cell's."""
    cell = f'<c t="inlineStr"><is><t>{"长" * characters}</t></is></c>'
    return workbook([HEADER, "<row><c><v>1</v></c><c/><c/>" + cell + "</row>"])


def many_columns(rows=4000, columns=16000):
    """`rows` rows of `columns` numbers each (4,000 × 16,000 killed a worker)."""
    return workbook([HEADER, *_repeated("<row>" + "<c><v>1</v></c>" * columns + "</row>", rows, 1)])


def wide_row(columns=16000):
    """A header and one data row `columns` wide: small enough to unpack, too wide to read."""
    return workbook(["<row>" + "<c><v>1</v></c>" * columns + "</row>"])


def many_rows(rows=1_000_000):
    """`rows` rows of one number: a few KB packed."""
    return workbook([HEADER, *_repeated("<row><c><v>1</v></c></row>", rows)])


def many_empty_cells(rows=40_000, columns=30):
    """Rows within the limit, each with `columns` empty cells: millions of cells to parse."""
    return workbook([HEADER, *_repeated("<row>" + "<c/>" * columns + "</row>", rows)])


BOMBS = {
    "300 MB shared string": huge_shared_string,
    "1,000,000-character cell": long_cell,
    "4,000 rows x 16,000 columns": many_columns,
    "one row 16,000 wide": wide_row,
    "1,000,000 rows": many_rows,
    "40,000 rows x 30 empty cells": many_empty_cells,
}


def _measure(name, max_rows):
    """In a fresh process: build the file, then read it, reporting the cost of reading."""
    import resource
    import time
    import tracemalloc

    import django

    django.setup()
    from worklog.imports import ImportRejected, read_sheet

    content = BOMBS[name]()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        lines = read_sheet("bomb.xlsx", content, max_rows)
        answer = f"read {len(lines)} rows"
    except ImportRejected as rejected:
        answer = str(rejected.problems[0])[:150]
    except MemoryError:
        answer = "MemoryError"
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KB on Linux
    print(f"{name:30} {len(content) / 1024:8.0f} KB packed  {seconds:6.2f} s  "
          f"(cpu {cpu:5.2f} s)  +{grown / 1024:6.0f} MB resident  "
          f"tracemalloc peak {peak / MB:6.0f} MB  → {answer}", flush=True)


def _measure_web(name, username):
    """In a fresh process: post the file to the import page as `username`."""
    import resource
    import time

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    content = BOMBS[name]()
    file = io.BytesIO(content)
    file.name = "bomb.xlsx"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    response = client.post("/import/entries/", {"file": file})
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    problems = (response.context or {}).get("problems") or ["-"]
    print(f"{name:30} {seconds:6.2f} s  (cpu {cpu:5.2f} s)  +{grown / 1024:6.0f} MB resident  "
          f"answer {response.status_code}, {len(response.content) / 1024:,.0f} KB  "
          f"→ {str(problems[0])[:110]}", flush=True)


if __name__ == "__main__":
    import os
    import subprocess
    import sys

    web = sys.argv[1:2] == ["--web"]
    if len(sys.argv) == 3 + web:  # [--web USER | ROWS] BOMB: one file, in this fresh process
        _measure_web(sys.argv[3], sys.argv[2]) if web else _measure(sys.argv[2], int(sys.argv[1]))
        sys.exit()
    arguments = sys.argv[1:3] if web else sys.argv[1:2] or ["50000"]  # the page's MAX_ROWS
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    patience = int(os.environ.get("BOMB_SECONDS", "120"))  # then the reading is given up
    for bomb in BOMBS:
        try:
            subprocess.run([sys.executable, os.path.abspath(__file__), *arguments, bomb], cwd=here,
                           env={**os.environ, "PYTHONPATH": here}, timeout=patience, check=False)
        except subprocess.TimeoutExpired:
            print(f"{bomb:30} no answer within {patience} s (stopped)", flush=True)
