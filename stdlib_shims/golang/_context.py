"""golang._context: where pygolang keeps its context type (PyContext) and
the children check its tests use; gpython's contexts are golang.context's."""

from golang import context as _ctxmod

PyContext = _ctxmod.Context


def _tctxAssertChildren(ctx, childrenOK):
    """assert that the contexts cancelled together with ctx (its direct
    children) are exactly the set childrenOK."""
    for c in childrenOK:
        assert isinstance(c, PyContext)
    if set(getattr(ctx, '_children', ())) != set(childrenOK):
        raise AssertionError("context children differ")
