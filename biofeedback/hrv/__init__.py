"""Pure HRV maths: artifact correction, time/frequency/nonlinear metrics, live processing.

Arrays in milliseconds in, frozen dataclasses or floats out; numpy and scipy only (no I/O,
no asyncio, no logging output).
"""
