"""golang._errors: where pygolang keeps errors' chain iterator."""

from golang.errors import _UnwrapIter as _pyUnwrapIter  # noqa: F401
