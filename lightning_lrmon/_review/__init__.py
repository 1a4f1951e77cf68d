"""The review: what a check looks at, the catalogue of checks, the planned series, the one pipeline and renderer."""
