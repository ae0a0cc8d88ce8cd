"""One module per command: logs -> statistics -> checks -> a Report with a verdict."""
