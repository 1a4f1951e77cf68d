"""The TensorBoard writer: record framing and encoding, the buffered event file, what a run directory holds."""
