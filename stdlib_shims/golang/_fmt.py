"""golang._fmt: where pygolang keeps fmt's wrapping error type."""

from golang.fmt import _PyWrapError  # noqa: F401
