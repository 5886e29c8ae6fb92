"""Live, honest HRV biofeedback during ASMR. Not a medical device."""

__version__ = "0.1.0"
