"""Data files bundled with FloatChat (sample Argo files, Natural Earth layers)."""
