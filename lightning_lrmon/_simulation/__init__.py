"""The simulation: a schedule's LRs at every step from its record's kernel (in chunks), isolated user code, stacks."""
