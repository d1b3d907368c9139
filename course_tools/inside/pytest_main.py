"""Start pytest inside the sandbox (argv: pytest's arguments)."""

import sys

if __name__ == "__main__":
    # jsonschema (imported by nbformat) would import the optional rfc3987_syntax, which builds
    # a grammar for about a second; nbformat never needs it
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    import pytest

    sys.exit(pytest.main(sys.argv[1:]))
