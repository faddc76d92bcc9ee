"""The planner: learned durations and arrivals, due times along the graph, dispatch policies."""
