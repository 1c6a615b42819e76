"""Facts of the shipped territory profile (``geodata/``, Grand Besançon Métropole)
that tests use: the code holds none of them (tests/test_territory.py checks)."""

from __future__ import annotations

from mapapp.territory import load_territory

SHIPPED = load_territory()  # the profile of geodata/territory.toml

# The box of former releases (Grand Besançon with a margin of about 2 km), still a
# valid STUDY_AREA value: it cut off most of Byans-sur-Doubs and
# Villars-Saint-Georges, members of the metropolis since 2017. Store tests use it
# as the area of stores made without a site.
GRAND_BESANCON_BBOX = (5.78, 47.13, 6.20, 47.37)
