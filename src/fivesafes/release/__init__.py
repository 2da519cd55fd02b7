"""release layer (see ../shared/DESIGN.md)."""
