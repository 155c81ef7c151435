"""The pages' routes, one module per workbench."""
