"""requests layer (see ../shared/DESIGN.md)."""
