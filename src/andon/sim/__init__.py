"""The scheduler lab: scenarios, a virtual-clock simulator driving the engine core, metrics and traces."""
