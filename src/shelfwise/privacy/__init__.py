"""Privacy by design (LGPD)."""
