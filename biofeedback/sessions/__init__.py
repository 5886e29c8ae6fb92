"""Sessions: the SQLite store, protocols, and the file formats (bundle, RR text, HRM, Elite HRV)."""
