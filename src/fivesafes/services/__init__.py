"""services layer (see ../shared/DESIGN.md)."""
