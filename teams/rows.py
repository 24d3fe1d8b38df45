"""Model instances from the rows of a plain SQL statement, for the few reads on every
request (the session's user, a member's writable teams) where building the query through
the ORM cost several times the CPU of running it."""


def columns(model, alias=None):
    """The model's concrete columns, quoted, in field order (prefixed by `alias`)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{field.column}"' for field in model._meta.concrete_fields)


def _converters(model, connection):
    """[(attname, [converters])] of the model's concrete fields on this connection, as the
    ORM applies them; found once per connection and model (asking for them was most of
    reading a row)."""
    found = getattr(connection, "_row_converters", None)
    if found is None:
        found = connection._row_converters = {}
    if model not in found:
        found[model] = [
            (field.attname, connection.ops.get_db_converters(column) + field.get_db_converters(connection), column)
            for field in model._meta.concrete_fields
            for column in [field.get_col(model._meta.db_table)]
        ]
    return found[model]


def read_row(models, connection, row):
    """One instance of each of `models` from a row holding their concrete columns one
    model after the other (as `columns` lists them), with the database's converters
    applied as the ORM applies them (SQLite's datetimes made aware, say)."""
    made, start = [], 0
    for model in models:
        fields = _converters(model, connection)
        values = []
        for (_attname, converters, column), value in zip(fields, row[start:start + len(fields)]):
            for convert in converters:
                value = convert(value, column, connection)
            values.append(value)
        made.append(model.from_db(connection.alias, [attname for attname, _converters, _column in fields], values))
        start += len(fields)
    return made
