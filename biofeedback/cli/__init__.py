"""Command line: argument parsing here, work in the layers below (imported lazily)."""
