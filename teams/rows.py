"""Model instances from the rows of a plain SQL statement, for the few reads on every
request (the session's user, a member's writable teams) where building the query through
the ORM cost several times the CPU of running it."""


def columns(model, alias=None):
    """The model's concrete columns, quoted, in field order (prefixed by `alias`)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{field.column}"' for field in model._meta.concrete_fields)


def read_row(models, connection, row):
    """One instance of each of `models` from a row holding their concrete columns one
    model after the other (as `columns` lists them), with the database's converters
    applied as the ORM applies them (SQLite's datetimes made aware, say)."""
    made, start = [], 0
    for model in models:
        fields = model._meta.concrete_fields
        values = []
        for field, value in zip(fields, row[start:start + len(fields)]):
            column = field.get_col(model._meta.db_table)
            for convert in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
                value = convert(value, column, connection)
            values.append(value)
        made.append(model.from_db(connection.alias, [field.attname for field in fields], values))
        start += len(fields)
    return made
