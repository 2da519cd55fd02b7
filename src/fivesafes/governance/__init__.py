"""governance layer (see ../shared/DESIGN.md)."""
