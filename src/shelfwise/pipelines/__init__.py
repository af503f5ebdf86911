"""Named chains of capability steps (the demo today; the daily chain as later issues add steps)."""
