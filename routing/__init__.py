"""routing (派单): units, areas, the responsibility catalogue and assignments."""
