"""An adapter whose framework is not installed: the plugin must turn it into a skip with this reason."""

from conformance.harness.surface import FrameworkUnavailable


def load():
    try:
        import absentlib  # noqa: F401
    except ImportError:
        raise FrameworkUnavailable("absentlib is not installed") from None
