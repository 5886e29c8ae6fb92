"""Heart-rate sources: radio bytes in, typed events out.

This package never imports :mod:`biofeedback`; it knows nothing of HRV.
"""
