"""The live pipeline: a source, the recorder, the HRV processor and subscribers, on one loop."""
