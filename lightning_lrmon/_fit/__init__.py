"""The fit: what LRMonitor's Lightning hooks do, phase by phase, and what one fit owns (session, sinks, live checks)."""
