"""One router per resource; handlers call an :class:`airlock.workflow.Airlock` verb each."""
