"""Pure statistics on numbers and arrays: no Polars, no I/O, no printing."""
