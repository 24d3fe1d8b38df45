"""The dashboard's repeated parts drawn in Python, one pass of string formatting each: the
scope picker's options, the indicator cards and the breakdown's cells. Through the template
engine (a node and a variable lookup at a time, an include per option or column) they were
the largest part of the page's CPU profile (issue 14). The output is the
templates' own, character for character, in the templates' translations."""

from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from worklog.figures import exact_number


def scope_kind_names():
    """What the picker calls each kind of scope (as dashboards/_scope_kind.html does)."""
    return {"org": _("Organisation"), "area": _("Area"), "team": _("Team"), "village": _("Village")}


def scope_picker(options, scope):
    """The scope picker's <option>s for `options` (visible_scopes), the scope's selected
    (some 120 for a superuser at the bench's size)."""
    names = scope_kind_names()
    return format_html_join(
        "", '<option value="{}:{}"{}>{}: {}</option>',
        ((kind, obj.slug, mark_safe(" selected") if (kind, obj.slug) == (scope.kind, scope.slug) else "",
          names[kind], obj.label) for kind, obj in options),
    )


def card_html(card):
    """An indicator's card as the dashboard shows it. Values are escaped as the template
    escaped them (blocktranslate escapes its variables, not its sentence)."""
    figure, change, reported = card["figure"], card["change"], card["reported"]
    previous = _("Last year: %(previous)s") % {"previous": conditional_escape(card["previous"].text)}
    if change.value > 0:
        previous += format_html('\n          <span class="text-success change">▲ {}</span>', change.text)
    elif change.value < 0:
        previous += format_html('\n          <span class="text-danger change">▼ {}</span>', change.text)
    else:
        previous += "\n          "
    as_reported = ""
    if reported and reported.value != figure.value:
        as_reported = format_html(
            '<p class="small text-warning-emphasis mb-1 as-reported" data-reported="{}">{}</p>',
            localize(reported.value),
            mark_safe(_("As reported at lock: %(reported)s · shown above as corrected")  # noqa: S308
                      % {"reported": conditional_escape(reported.text)}),
        )
    return format_html(
        """
  <div class="col-12 col-md-6 col-xl-4">
    <section class="card h-100 indicator-card" data-indicator="{code}" data-value="{value}">
      <div class="card-body p-2">
        <h2 class="h6 card-title mb-1">{label}</h2>
        <p class="mb-1"><a class="figure fs-4 fw-bold text-decoration-none" href="{url}" title="{exact}">{text}</a>
          <span class="exact-print">({exact})</span></p>
        <p class="small text-body-secondary mb-1">{previous}</p>
        {as_reported}
        {chart}
      </div>
    </section>
  </div>
""",
        code=figure.code, value=localize(figure.value), label=figure.label, url=card["url"],
        exact=figure.exact, text=figure.text, previous=mark_safe(previous),  # noqa: S308 (escaped above)
        as_reported=as_reported, chart=card["chart"],
    )


def breakdown_rows(rows):
    """The breakdown's rows on screen: each place a link to its own dashboard, then its
    cells (a loop of the template drew them a node at a time)."""
    return format_html_join("", '<tr><th scope="row" class="text-nowrap"><a href="{}">{}</a></th>{}</tr>',
                            ((row["url"], row["place"], row["cells"]) for row in rows))


def print_rows(rows):
    """A printed table's rows: the place, then its cells."""
    return format_html_join("", '<tr><th scope="row">{}</th>{}</tr>', ((row["place"], row["cells"]) for row in rows))


def row_cells(values):
    """A breakdown row's figures as its table cells: numbers as tables write them
    (exact_number gives digits, separators and a sign: nothing to escape)."""
    return mark_safe("".join(f'<td class="text-end">{exact_number(value)}</td>' for value in values))  # noqa: S308


def total_cells(totals):
    """The totals row's figures as its cells (data-total localised as the template did; a
    figure counted once where its column adds up to more is starred)."""
    return mark_safe("".join(  # noqa: S308 (numbers only)
        f'<td class="text-end" data-total="{localize(cell["value"])}">{exact_number(cell["value"])}'
        f'{"*" if cell["counted_once"] else ""}</td>' for cell in totals
    ))


def header_cells(headers):
    """The breakdown's column headers on screen: each a link that sorts by it, the sorted
    one marked (aria-sort and an arrow)."""
    return format_html_join("", '<th scope="col"{}{}><a href="{}">{}</a>{}</th>', (
        (mark_safe(' class="text-end"') if column["numeric"] else "",
         format_html(' aria-sort="{}"', "ascending" if column["direction"] == "asc" else "descending")
         if column["direction"] else "",
         column["url"], column["title"], {"asc": " ▲", "desc": " ▼"}.get(column["direction"], ""))
        for column in headers
    ))
