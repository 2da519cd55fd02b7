"""audit layer (see ../shared/DESIGN.md)."""
