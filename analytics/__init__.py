"""analytics (考评): read models built only from events; the three rates and the rest."""
