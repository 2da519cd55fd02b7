"""vault layer (see ../shared/DESIGN.md)."""
