"""Summarisers and translators behind one seam (protocol.py), loaded by loader.py."""
