"""The domain's own types: plain dataclasses and enums, no I/O. Storage maps rows to them."""
