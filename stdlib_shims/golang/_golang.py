"""golang._golang: where pygolang keeps its core (compiled there); here the
string helpers its tests use, _bdata/_udata (a bstr's bytes, a ustr's
text)."""

from golang._golang_str import _bdata, _udata  # noqa: F401
