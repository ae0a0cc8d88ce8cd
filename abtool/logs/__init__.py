"""Reading logs: resolve paths, validate schemas, scan Parquet lazily and aggregate in Polars."""
