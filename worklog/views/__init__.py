"""Views of the notebook and totals, one module per area."""
